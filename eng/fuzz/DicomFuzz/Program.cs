using System.Text;
using EventSourced.Dicom;
using SharpFuzz;

namespace DicomFuzz;

/// <summary>
/// AFL++ harness: one input = one DICOM byte string. Reads it in memory and from a forward-only
/// stream with the streaming options, writes the in-memory result as DICOM JSON and reads that back.
/// Only <see cref="DicomFormatException"/> is the codec's contract for malformed input; any other
/// exception escapes and AFL records a crash.
/// With a file or folder argument (`dotnet DicomFuzz.dll input.bin`) it runs the same body once per file,
/// without the fork server, to reproduce a finding or replay a corpus (use an un-instrumented build).
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args.Length > 0)
        {
            var files = Directory.Exists(args[0]) ? Directory.GetFiles(args[0]) : [args[0]];
            foreach (var path in files)
            {
                Once(File.ReadAllBytes(path));
            }
            Console.WriteLine($"ok: {files.Length} input(s), no exception other than DicomFormatException");
            return;
        }
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            Once(ms.ToArray());
        });
    }

    private static void Once(byte[] data)
    {
        try
        {
            var file = DicomReader.Read(new ReadOnlyMemory<byte>(data));
            using (var forwardOnly = new ForwardOnlyStream(data))
            {
                DicomReader.Read(forwardOnly, DicomReadOptions.Streaming);
            }
            var json = DicomJsonWriter.Serialize(file.Dataset);
            DicomJsonReader.Parse(Encoding.UTF8.GetBytes(json));
        }
        catch (DicomFormatException)
        {
        }
    }

    /// <summary>Non-seekable view of a byte array with short reads (at most 4,093 bytes per call).</summary>
    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private int _pos;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, 4093), data.Length - _pos);
            Array.Copy(data, _pos, buffer, offset, n);
            _pos += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
