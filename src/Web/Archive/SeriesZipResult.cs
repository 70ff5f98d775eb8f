using System.IO.Compression;
using EventSourced.Application.Blobs;
using EventSourced.Projections.Studies;

namespace EventSourced.Web.Archive;

/// <summary>
/// A zip of stored DICOM files written straight to the response body: <see cref="ZipArchive"/> in Create
/// mode on the (unseekable) body writes each entry's local header, then the file's bytes as they are read
/// from the blob store (80 KiB at a time), then a data descriptor, and the central directory at the end.
/// Nothing is buffered beyond the copy buffer and the central directory's few bytes per entry, whatever
/// the series' size. Entries are stored, not deflated. Names: <c>{SOPInstanceUID}.dcm</c>.
/// </summary>
public sealed class SeriesZipResult(IReadOnlyList<InstanceLocation> instances, IBlobStore blobs, string fileName) : IResult
{
    public async Task ExecuteAsync(HttpContext context)
    {
        var cancellation = context.RequestAborted;
        context.Response.ContentType = "application/zip";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        await using var zip = await ZipArchive.CreateAsync(context.Response.Body, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, cancellation);
        foreach (var instance in instances)
        {
            await using var blob = blobs.OpenRead(instance.Sha256)
                ?? throw new InvalidOperationException($"Blob {instance.Sha256} of instance {instance.Id} is missing.");
            var entry = zip.CreateEntry($"{ArchiveQueryModule.SafeName(instance.Id)}.dcm", CompressionLevel.NoCompression);
            entry.LastWriteTime = instance.StoredAt;
            await using var content = await entry.OpenAsync(cancellation);
            await blob.CopyToAsync(content, 81920, cancellation);
        }
    }
}
