using System.IO.Compression;
using EventSourced.Application.Blobs;
using EventSourced.Application.Pathology.StoringSlides;
using EventSourced.Domain.Studies;
using EventSourced.Projections.Pathology;
using EventSourced.Projections.Qido;
using EventSourced.Web.Shared.Zip;
using Marten;

namespace EventSourced.Web.Pacs.Pathology;

/// <summary>A visible pathology slide instance and the slide file kept for it.</summary>
public sealed record PathologySlide(QidoInstance Instance, WholeSlideFile File);

/// <summary>
/// The slide files of document e's pathology storage as <c>wholeslide</c> serves them and the non-DICOM
/// forward sends them: a single-file slide as it was stored, a MIRAX slide as a zip of its <c>.mrxs</c> and
/// data folder (read from the stored zip, written as a new streamed one).
/// </summary>
public static class PathologySlides
{
    /// <summary>The non-DICOM slides of a container: its visible slide instances (ours, not DICOM whole-slide images) that have a file kept.</summary>
    public static async Task<IReadOnlyList<PathologySlide>> OfContainerAsync(IQuerySession session, string container, CancellationToken cancellation)
    {
        var instances = await PacsSeriesLookup.WithContainer(session, container)
            .Where(x => x.SopClassUid == SlideInstance.SopClassUid)
            .ToListAsync(cancellation);
        var slides = new List<PathologySlide>();
        foreach (var instance in instances.OrderBy(i => i.StudyInstanceUid, StringComparer.Ordinal).ThenBy(i => i.SopInstanceUid, StringComparer.Ordinal))
        {
            if (await WholeSlideFile.OfInstanceAsync(session, instance, cancellation) is { } file)
            {
                slides.Add(new PathologySlide(instance, file));
            }
        }

        return slides;
    }

    /// <summary>The name a slide is served under: the file's own, a MIRAX slide's zip named after its index.</summary>
    public static string ServedName(SlideFile file) =>
        file.Kind == SlideFileKind.Mirax ? Path.GetFileNameWithoutExtension(file.FileName) + ".zip" : file.FileName;

    /// <summary>The stored blob of the slide (for MIRAX: the received zip); null when it is missing.</summary>
    public static Stream? OpenStored(IBlobStore blobs, SlideFile file) => blobs.OpenRead(file.Blob.Sha256);

    /// <summary>
    /// Writes a MIRAX slide as a zip of its index first and its data folder's files (paths relative to the
    /// index's folder), from <paramref name="stored"/> (the received zip, disposed here); the bytes written.
    /// </summary>
    public static async Task<long> WriteMiraxZipAsync(Stream target, Stream stored, SlideFile file, IBlobStore blobs, CancellationToken cancellation)
    {
        await using var seekable = await SeekableZip.OpenAsync(stored, cancellation);
        using var zip = new ZipArchive(seekable, ZipArchiveMode.Read);
        var index = file.MiraxIndexEntry!;
        var root = index.Contains('/') ? index[..(index.LastIndexOf('/') + 1)] : "";
        var entries = zip.Entries
            .Where(e => MiraxArchive.BelongsTo(e, index))
            .OrderBy(e => e.FullName != index)
            .ThenBy(e => e.FullName, StringComparer.Ordinal)
            .Select(e => ZipEntrySource.Opened(e.FullName[root.Length..], e.LastWriteTime, c => e.OpenAsync(c)))
            .ToList();
        return await ZipStreamResult.WriteAsync(target, entries, blobs, cancellation);
    }
}
