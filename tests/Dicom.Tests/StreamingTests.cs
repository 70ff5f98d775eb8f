using System.Buffers.Binary;
using System.Text.Json.Nodes;

namespace EventSourced.Dicom.Tests;

/// <summary>Streaming ingestion: forward-only input, Pixel Data and large values passed over and located, memory bounded.</summary>
public class StreamingTests
{
    [Theory]
    [MemberData(nameof(CorpusCase.Parsing), MemberType = typeof(CorpusCase))]
    public void Streaming_header_equals_full_read_and_references_point_at_the_skipped_bytes(string file)
    {
        var path = CorpusCase.Get(file).FullPath;
        var bytes = File.ReadAllBytes(path);
        var full = DicomReader.Read(bytes);
        using var input = new NonSeekableStream(bytes);
        var streamed = DicomReader.Read(input, new DicomReadOptions { SkipPixelData = true, BulkDataThreshold = 1024 });

        // Everything but Pixel Data must be the same; values over 1 KiB are URIs on both sides.
        var options = new DicomJsonOptions { BulkDataThreshold = 1024, BulkDataUri = _ => "skipped" };
        var ours = JsonNode.Parse(DicomJsonWriter.Serialize(streamed.Dataset, options))!.AsObject();
        var reference = JsonNode.Parse(DicomJsonWriter.Serialize(full.Dataset, options))!.AsObject();
        Assert.Equal(reference.ContainsKey("7FE00010"), ours.ContainsKey("7FE00010"));
        ours.Remove("7FE00010");
        reference.Remove("7FE00010");
        var diffs = Oracles.Diff(ours, reference);
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));

        if (full.TransferSyntax.Deflated)
        {
            return; // offsets are positions in the inflated stream
        }
        var pixel = streamed.Dataset.Find(DicomTag.PixelData);
        var fullPixel = full.Dataset.Find(DicomTag.PixelData);
        if (pixel?.BulkData is { } r)
        {
            var expected = fullPixel!.RawValue.Span;
            if (full.TransferSyntax.BigEndian)
            {
                return; // the skipped bytes are big endian on disk, the loaded value is swapped
            }
            Assert.True(bytes.AsSpan((int)r.Offset, (int)r.Length).SequenceEqual(expected));
        }
        if (pixel?.Fragments is { } frags)
        {
            Assert.Equal(fullPixel!.Fragments!.Fragments.Count, frags.Fragments.Count);
            for (var i = 0; i < frags.Fragments.Count; i++)
            {
                var fragmentRef = frags.Fragments[i].Reference!.Value;
                Assert.True(bytes.AsSpan((int)fragmentRef.Offset, (int)fragmentRef.Length).SequenceEqual(fullPixel.Fragments.Fragments[i].Data.Span));
            }
        }
    }

    [Fact]
    public void References_are_stream_positions_when_reading_starts_mid_stream()
    {
        var bytes = File.ReadAllBytes(CorpusCase.Get("test_files/CT_small.dcm").FullPath);
        var full = DicomReader.Read(bytes);
        using var ms = new MemoryStream([.. new byte[100], .. bytes]);
        ms.Position = 100;
        var streamed = DicomReader.Read(ms, DicomReadOptions.Streaming);
        var r = streamed.Dataset[DicomTag.PixelData].BulkData!.Value;
        Assert.True(ms.ToArray().AsSpan((int)r.Offset, (int)r.Length).SequenceEqual(full.Dataset[DicomTag.PixelData].RawValue.Span));
    }

    [Fact]
    public void A_large_instance_streams_in_bounded_memory()
    {
        // A synthetic 512×512 CT header followed by 256 MiB of pixel data produced on the fly.
        const long pixelBytes = 256L * 1024 * 1024;
        var header = SyntheticCt.Header(pixelBytes);
        using var input = new GeneratedStream(header, pixelBytes);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var file = DicomReader.Read(input, DicomReadOptions.Streaming);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(new DicomBulkDataReference(header.Length, pixelBytes), file.Dataset[DicomTag.PixelData].BulkData);
        Assert.Equal((ushort)512, file.Dataset.GetValue<ushort>(DicomTag.Rows));
        Assert.True(allocated < 1024 * 1024, $"allocated {allocated} bytes");
    }
}

/// <summary>A forward-only stream that yields a header and then zeros, never holding the zeros.</summary>
internal sealed class GeneratedStream(byte[] head, long tail) : Stream
{
    private long _pos;
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count)
    {
        var total = head.Length + tail;
        if (_pos >= total)
        {
            return 0;
        }
        var n = (int)Math.Min(count, total - _pos);
        for (var i = 0; i < n; i++)
        {
            var p = _pos + i;
            buffer[offset + i] = p < head.Length ? head[p] : (byte)0;
        }
        _pos += n;
        return n;
    }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>Builds a CT-like Part 10 header by hand (independent of our writer), ending with the Pixel Data header.</summary>
internal static class SyntheticCt
{
    public static byte[] Header(long pixelBytes)
    {
        var ms = new MemoryStream();
        ms.Write(new byte[128]);
        ms.Write("DICM"u8);
        var meta = new MemoryStream();
        Short(meta, 0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1\0"u8);
        Long(ms, 0x0002, 0x0001, "OB", [0, 1]);
        var group = meta.ToArray();
        var gl = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(gl, (uint)(group.Length + 14));
        var m2 = new MemoryStream();
        Short(m2, 0x0002, 0x0000, "UL", gl);
        ms.Position = 132;
        var tmp = new MemoryStream();
        tmp.Write(m2.ToArray());
        Long(tmp, 0x0002, 0x0001, "OB", [0, 1]);
        tmp.Write(group);
        ms.SetLength(132);
        ms.Write(tmp.ToArray());
        Short(ms, 0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.2\0"u8);
        Short(ms, 0x0008, 0x0018, "UI", "1.2.3.4.5.6.7.8.9\0"u8);
        Short(ms, 0x0008, 0x0060, "CS", "CT"u8);
        Short(ms, 0x0010, 0x0010, "PN", "Doe^John"u8);
        Short(ms, 0x0010, 0x0020, "LO", "12345678"u8);
        Short(ms, 0x0020, 0x000D, "UI", "1.2.3.4.5.6.7.8.10\0"u8);
        Short(ms, 0x0020, 0x000E, "UI", "1.2.3.4.5.6.7.8.11\0"u8);
        Short(ms, 0x0020, 0x0032, "DS", "-250\\-250\\-100.5 "u8);
        Short(ms, 0x0028, 0x0002, "US", [1, 0]);
        Short(ms, 0x0028, 0x0004, "CS", "MONOCHROME2 "u8);
        Short(ms, 0x0028, 0x0010, "US", [0, 2]);
        Short(ms, 0x0028, 0x0011, "US", [0, 2]);
        Short(ms, 0x0028, 0x0100, "US", [16, 0]);
        Short(ms, 0x0028, 0x0101, "US", [12, 0]);
        Short(ms, 0x0028, 0x0102, "US", [11, 0]);
        Short(ms, 0x0028, 0x0103, "US", [1, 0]);
        Short(ms, 0x0028, 0x1050, "DS", "40"u8);
        Short(ms, 0x0028, 0x1051, "DS", "400 "u8);
        var px = new byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(px, 0x7FE0);
        BinaryPrimitives.WriteUInt16LittleEndian(px.AsSpan(2), 0x0010);
        px[4] = (byte)'O';
        px[5] = (byte)'W';
        BinaryPrimitives.WriteUInt32LittleEndian(px.AsSpan(8), checked((uint)pixelBytes));
        ms.Write(px);
        return ms.ToArray();
    }

    private static void Short(Stream s, ushort g, ushort e, string vr, ReadOnlySpan<byte> value)
    {
        Span<byte> h = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(h, g);
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], e);
        h[4] = (byte)vr[0];
        h[5] = (byte)vr[1];
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], (ushort)value.Length);
        s.Write(h);
        s.Write(value);
    }

    private static void Long(Stream s, ushort g, ushort e, string vr, ReadOnlySpan<byte> value)
    {
        Span<byte> h = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(h, g);
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], e);
        h[4] = (byte)vr[0];
        h[5] = (byte)vr[1];
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)value.Length);
        s.Write(h);
        s.Write(value);
    }
}

/// <summary>Ingestion hand-off: header parsed, the stream left at the Pixel Data value for the caller to copy on.</summary>
public class StopAtPixelDataTests
{
    [Theory]
    [InlineData("test_files/CT_small.dcm")]
    [InlineData("test_files/MR_small_implicit.dcm")]
    [InlineData("test_files/JPEG2000.dcm")]
    [InlineData("test_files/SC_rgb_rle_2frame.dcm")]
    public void The_rest_of_the_stream_starts_at_the_pixel_data_value(string file)
    {
        var bytes = File.ReadAllBytes(CorpusCase.Get(file).FullPath);
        var full = DicomReader.Read(bytes);
        using var input = new NonSeekableStream(bytes);
        var header = DicomReader.Read(input, new DicomReadOptions { StopAtPixelData = true });
        var reference = header.Dataset[DicomTag.PixelData].BulkData!.Value;
        using var rest = new MemoryStream();
        header.PixelDataStream!.CopyTo(rest);
        // Whatever follows the header in the file, byte for byte, from the value's offset on.
        Assert.True(rest.ToArray().AsSpan().SequenceEqual(bytes.AsSpan((int)reference.Offset)));
        var pixel = full.Dataset[DicomTag.PixelData];
        if (pixel.Fragments is null)
        {
            Assert.Equal(pixel.RawValue.Length, reference.Length);
        }
        else
        {
            Assert.Equal(-1, reference.Length);
            Assert.Equal("FEFF00E0", Convert.ToHexString(rest.ToArray(), 0, 4));
        }
        Assert.Equal(full.Dataset.Elements.TakeWhile(e => e.Tag != DicomTag.PixelData).Count() + 1, header.Dataset.Count);
    }
}
