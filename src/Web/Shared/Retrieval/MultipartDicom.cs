using System.Buffers;
using System.IO.Pipelines;
using EventSourced.Web.Shared.DicomWeb;
using EventSourced.Projections.Studies;

namespace EventSourced.Web.Shared.Retrieval;

/// <summary>
/// Instances as one <c>multipart/related; type="application/dicom"</c> body (PS3.18 §8.6.1.2), each part the
/// file as WADO-RS serves it (<see cref="CoercedRetrieval"/>), written blob after blob: WADO-RS answers
/// with it, and forwarding sends it to a peer's STOW-RS.
/// </summary>
public static class MultipartDicom
{
    private static readonly ReadOnlyMemory<byte> LineBreak = "\r\n"u8.ToArray();

    public static string ContentType(string boundary) => $"multipart/related; type=\"{DicomWebMediaTypes.Dicom}\"; boundary={boundary}";

    /// <param name="transferSyntaxParameter">
    /// Whether each part's media type names its transfer syntax (WADO-RS answers do, PS3.18 §8.7.3.5.2). A
    /// STOW-RS request leaves it out: the file's meta header carries it, and strict peers (Orthanc's DICOMweb
    /// plugin) ignore a part whose type is anything but <c>application/dicom</c>.
    /// </param>
    /// <returns>The bytes of the DICOM files written (not counting the multipart framing).</returns>
    public static async Task<long> WriteAsync(
        Stream body, string boundary, IEnumerable<InstanceLocation> instances, CoercedRetrieval blobs, CancellationToken cancellation, bool transferSyntaxParameter = true)
    {
        long total = 0;
        foreach (var instance in instances)
        {
            var (blob, length) = await blobs.OpenAsync(instance, cancellation);
            await using var _ = blob;
            await body.WriteAsync(PartHead(boundary, instance, length, transferSyntaxParameter), cancellation);
            await blob.CopyToAsync(body, cancellation);
            await body.WriteAsync(LineBreak, cancellation);
            total += length;
        }

        await body.WriteAsync(Closing(boundary), cancellation);
        return total;
    }

    /// <summary>
    /// One instance as a whole WADO-RS answer, the hot path of a viewer: its length is known before a byte is
    /// written, so the answer has a Content-Length (no chunk framing per write) and goes out in one flush; a local
    /// file up to <see cref="WholeFileLimit"/> is read straight into the response's buffer (page-cache reads, no
    /// stream buffer, no hop to another thread per read).
    /// </summary>
    /// <param name="boundary">The boundary, written as 32 hexadecimal digits (<c>Guid.ToString("N")</c>).</param>
    public static async Task WriteOneAsync(HttpResponse response, Guid boundary, InstanceLocation instance, CoercedRetrieval blobs, CancellationToken cancellation)
    {
        var (blob, length) = await blobs.OpenAsync(instance, cancellation);
        await using var _ = blob;
        var whole = blob is FileStream file && length <= WholeFileLimit ? file.SafeFileHandle : null;
        if (whole is not null && RandomAccess.GetLength(whole) < length)
        {
            throw new InvalidOperationException($"The file of instance {instance.Id} is shorter than its recorded {length} bytes.");
        }

        var writer = response.BodyWriter;
        StartOne(response, boundary, instance, length);
        if (whole is not null)
        {
            ReadInto(writer, whole, (int)length);
        }
        else
        {
            await blob.CopyToAsync(writer, cancellation);
        }

        writer.Write(LineBreak.Span);
        WriteClosing(writer, boundary);
        await writer.FlushAsync(cancellation);
    }

    /// <summary>The answer's headers (its length known: the part's head, the file, the line break, the closing) and the part's head, formatted in place.</summary>
    private static void StartOne(HttpResponse response, Guid boundary, InstanceLocation instance, long length)
    {
        Span<byte> head = stackalloc byte[512];
        if (!System.Text.Unicode.Utf8.TryWrite(head,
                $"--{boundary:N}\r\nContent-Type: {DicomWebMediaTypes.Dicom}; transfer-syntax={instance.TransferSyntaxUid}\r\nContent-Length: {length}\r\n\r\n", out var written))
        {
            throw new InvalidOperationException($"The part head of instance {instance.Id} does not fit {head.Length} bytes.");
        }

        response.ContentType = ContentType(boundary);
        response.ContentLength = written + length + LineBreak.Length + ClosingLength;
        response.BodyWriter.Write(head[..written]);
    }

    private static void WriteClosing(PipeWriter writer, Guid boundary)
    {
        var span = writer.GetSpan(ClosingLength);
        if (!System.Text.Unicode.Utf8.TryWrite(span, $"--{boundary:N}--\r\n", out var written) || written != ClosingLength)
        {
            throw new InvalidOperationException("The closing boundary is 38 bytes.");
        }

        writer.Advance(written);
    }

    /// <summary><c>--{32 hexadecimal digits}--\r\n</c>.</summary>
    private const int ClosingLength = 38;

    /// <summary>The media type of an answer whose boundary is <paramref name="boundary"/> as <c>Guid.ToString("N")</c>.</summary>
    public static string ContentType(Guid boundary) => $"multipart/related; type=\"{DicomWebMediaTypes.Dicom}\"; boundary={boundary:N}";

    /// <summary>The largest file <see cref="WriteOneAsync"/> reads whole into the response's buffer; a larger one is streamed.</summary>
    public const long WholeFileLimit = 1024 * 1024;

    private static void ReadInto(System.IO.Pipelines.PipeWriter writer, Microsoft.Win32.SafeHandles.SafeFileHandle file, int length)
    {
        var span = writer.GetSpan(length)[..length];
        var read = 0;
        while (read < length)
        {
            var n = RandomAccess.Read(file, span[read..], read);
            read += n > 0 ? n : throw new InvalidOperationException($"The file ended after {read} of its {length} recorded bytes.");
        }

        writer.Advance(length);
    }

    private static byte[] PartHead(string boundary, InstanceLocation instance, long length, bool transferSyntaxParameter) =>
        System.Text.Encoding.ASCII.GetBytes(
            $"--{boundary}\r\nContent-Type: {DicomWebMediaTypes.Dicom}{(transferSyntaxParameter ? "; transfer-syntax=" + instance.TransferSyntaxUid : "")}\r\nContent-Length: {length}\r\n\r\n");

    private static byte[] Closing(string boundary) => System.Text.Encoding.ASCII.GetBytes($"--{boundary}--\r\n");
}
