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
            await body.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
                $"--{boundary}\r\nContent-Type: {DicomWebMediaTypes.Dicom}{(transferSyntaxParameter ? "; transfer-syntax=" + instance.TransferSyntaxUid : "")}\r\nContent-Length: {length}\r\n\r\n"), cancellation);
            await blob.CopyToAsync(body, cancellation);
            await body.WriteAsync(LineBreak, cancellation);
            total += length;
        }

        await body.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"--{boundary}--\r\n"), cancellation);
        return total;
    }
}
