using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace EventSourced.Dicom;

/// <summary>
/// Forward-only reader over either a memory block (values become slices, no copy) or a stream
/// (buffered; non-seekable streams are fine). Every allocation is bounded by bytes that really
/// arrived, so a lying length field cannot make us allocate more than the input holds.
/// </summary>
internal sealed class ByteSource : IDisposable
{
    private const int BufferSize = 64 * 1024;
    private readonly Stream? _stream;
    private readonly bool _memory;
    private byte[] _buf;
    private int _pos;
    private int _end;
    private long _base; // source offset of _buf[0]
    private bool _eof;

    public ByteSource(ReadOnlyMemory<byte> data)
    {
        if (!MemoryMarshal.TryGetArray(data, out var seg))
        {
            seg = new ArraySegment<byte>(data.ToArray());
        }
        _buf = seg.Array!;
        _pos = seg.Offset;
        _end = seg.Offset + seg.Count;
        _base = -seg.Offset;
        _memory = true;
        _eof = true;
    }

    public ByteSource(Stream stream, long startOffset = 0)
    {
        _stream = stream;
        // Pooled: stream-mode values are always copied out of the buffer, never sliced from it.
        _buf = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        _base = startOffset;
    }

    public void Dispose()
    {
        if (!_memory && _buf.Length > 0)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(_buf);
            _buf = [];
        }
    }

    public long Position => _base + _pos;

    public int Buffered => _end - _pos;

    /// <summary>Makes at least n (≤ 64 KiB) bytes available; false at end of input.</summary>
    public bool Ensure(int n)
    {
        if (_end - _pos >= n)
        {
            return true;
        }
        if (_eof)
        {
            return false;
        }
        Compact();
        while (_end - _pos < n && !_eof)
        {
            var read = _stream!.Read(_buf, _end, _buf.Length - _end);
            if (read == 0)
            {
                _eof = true;
            }
            _end += read;
        }
        return _end - _pos >= n;
    }

    private void Compact()
    {
        if (_pos > 0)
        {
            Buffer.BlockCopy(_buf, _pos, _buf, 0, _end - _pos);
            _base += _pos;
            _end -= _pos;
            _pos = 0;
        }
    }

    public bool AtEnd => !Ensure(1);

    public ReadOnlySpan<byte> Peek(int n) => _buf.AsSpan(_pos, n);

    public ushort U16(bool bigEndian)
    {
        var s = _buf.AsSpan(_pos, 2);
        _pos += 2;
        return bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);
    }

    public uint U32(bool bigEndian)
    {
        var s = _buf.AsSpan(_pos, 4);
        _pos += 4;
        return bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
    }

    public byte U8() => _buf[_pos++];

    /// <summary>Bytes left in the input when that is knowable without reading (memory or seekable stream).</summary>
    public long? KnownRemaining =>
        _memory ? _end - _pos
        : _stream!.CanSeek ? _end - _pos + Math.Max(0, _stream.Length - _stream.Position) : null;

    /// <summary>Reads a value of the given length; throws our error when the input ends first.</summary>
    public ReadOnlyMemory<byte> Read(long length, DicomTag tag)
    {
        if (length == 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }
        var start = Position;
        if (KnownRemaining is { } rem && length > rem)
        {
            throw new DicomFormatException($"value length {length} exceeds the {rem} bytes left", start, tag);
        }
        if (_memory)
        {
            var m = new ReadOnlyMemory<byte>(_buf, _pos, (int)length);
            _pos += (int)length;
            return m;
        }
        if (length <= _end - _pos)
        {
            var copy = _buf.AsSpan(_pos, (int)length).ToArray();
            _pos += (int)length;
            return copy;
        }
        if (length > Array.MaxLength)
        {
            throw new DicomFormatException($"value length {length} is too large to load; use a bulk data threshold", start, tag);
        }
        // Grow as data actually arrives (non-seekable input cannot be checked up front).
        var result = new byte[(int)Math.Min(length, Math.Max(BufferSize, _end - _pos))];
        var filled = 0;
        while (filled < length)
        {
            if (_pos == _end && !Ensure(1))
            {
                throw new DicomFormatException($"input ends {length - filled} bytes before the end of the value", Position, tag);
            }
            var take = (int)Math.Min(_end - _pos, length - filled);
            if (filled + take > result.Length)
            {
                Array.Resize(ref result, (int)Math.Min(length, Math.Max((long)result.Length * 2, filled + take)));
            }
            Buffer.BlockCopy(_buf, _pos, result, filled, take);
            _pos += take;
            filled += take;
        }
        return result;
    }

    /// <summary>Passes over a value without keeping it (seeks when the stream allows).</summary>
    public void Skip(long length, DicomTag tag)
    {
        var start = Position;
        if (KnownRemaining is { } rem && length > rem)
        {
            throw new DicomFormatException($"value length {length} exceeds the {rem} bytes left", start, tag);
        }
        var buffered = Math.Min(length, _end - _pos);
        _pos += (int)buffered;
        length -= buffered;
        if (length == 0)
        {
            return;
        }
        if (_stream!.CanSeek)
        {
            _stream.Seek(length, SeekOrigin.Current);
            _base += _end + length;
            _pos = _end = 0;
            return;
        }
        while (length > 0)
        {
            if (!Ensure(1))
            {
                throw new DicomFormatException($"input ends {length} bytes before the end of the value", Position, tag);
            }
            var take = (int)Math.Min(_end - _pos, length);
            _pos += take;
            length -= take;
        }
    }

    /// <summary>The unread rest as a stream (for deflated data sets, PS3.5 §A.5).</summary>
    public Stream RestAsStream()
    {
        var head = new MemoryStream(_buf, _pos, _end - _pos, writable: false);
        _pos = _end;
        return _memory ? head : new ConcatStream(head, _stream!);
    }

    private sealed class ConcatStream(Stream first, Stream second) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = first.Read(buffer, offset, count);
            return n > 0 ? n : second.Read(buffer, offset, count);
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
