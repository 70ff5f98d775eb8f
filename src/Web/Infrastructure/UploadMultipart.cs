using EventSourced.Application.Ingestion.ReceivingInstances;
using Microsoft.AspNetCore.WebUtilities;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Reading multipart uploads part by part. Failures of the client's framing or stream become
/// <see cref="UploadStreamException"/> (a 4xx); Kestrel's own verdicts (413, 400) pass through; failures of
/// our disk stay what they are (a 500).
/// </summary>
public static class UploadMultipart
{
    /// <summary>
    /// RFC 2046 §5.1.1 caps a boundary at 70 characters, but real senders exceed it (Orthanc's DICOMweb
    /// plugin joins two UUIDs: 73). Strict in what we send, liberal in what we accept: up to this many.
    /// </summary>
    public const int MaxBoundaryLength = 400;

    /// <summary>A boundary we read: 1 to <see cref="MaxBoundaryLength"/> characters, quotes already removed.</summary>
    public static bool IsAcceptableBoundary(string boundary) => boundary.Length is > 0 and <= MaxBoundaryLength;

    public static MultipartReader Reader(string boundary, Stream body) =>
        new(boundary, body) { HeadersLengthLimit = 16 * 1024, HeadersCountLimit = 32 };

    public static async Task<MultipartSection?> NextSectionAsync(MultipartReader reader, CancellationToken cancellation)
    {
        try
        {
            return await reader.ReadNextSectionAsync(cancellation);
        }
        catch (Exception e) when (IsClientFault(e, cancellation))
        {
            throw new UploadStreamException(e);
        }
    }

    public static async Task DrainAsync(Stream part, CancellationToken cancellation)
    {
        try
        {
            await part.CopyToAsync(Stream.Null, cancellation);
        }
        catch (Exception e) when (IsClientFault(e, cancellation))
        {
            throw new UploadStreamException(e);
        }
    }

    /// <summary>A small part (a form field, a JSON document) read whole, up to <paramref name="maxBytes"/>; null when larger (the rest is drained).</summary>
    public static async Task<byte[]?> ReadBoundedAsync(Stream part, int maxBytes, CancellationToken cancellation)
    {
        var buffer = new byte[Math.Min(maxBytes + 1, 64 * 1024)];
        var total = 0;
        try
        {
            int read;
            while ((read = await part.ReadAsync(buffer.AsMemory(total), cancellation)) > 0)
            {
                total += read;
                if (total > maxBytes)
                {
                    await part.CopyToAsync(Stream.Null, cancellation);
                    return null;
                }

                if (total == buffer.Length)
                {
                    Array.Resize(ref buffer, Math.Min(buffer.Length * 2, maxBytes + 1));
                }
            }
        }
        catch (Exception e) when (IsClientFault(e, cancellation))
        {
            throw new UploadStreamException(e);
        }

        return buffer[..total];
    }

    private static bool IsClientFault(Exception e, CancellationToken cancellation) =>
        e is InvalidDataException or IOException && e is not BadHttpRequestException and not UploadStreamException && !cancellation.IsCancellationRequested;
}
