using System.IO.Compression;
using System.Security.Cryptography;
using EventSourced.Application.Blobs;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Domain.Studies;

namespace EventSourced.Application.Pathology.StoringSlides;

/// <summary>
/// A slide file received into a blob write that is not yet committed: its SHA-1 and length are known (and,
/// for MIRAX, the index's), so document e's <c>fileHash</c>/<c>fileLength</c> can be checked before
/// anything is kept. Disposing without <see cref="CommitAsync"/> removes the temporary file.
/// </summary>
public sealed class ReceivedSlideFile(IBlobWrite write, string fileName, SlideFileKind kind, long length, string sha1, string? miraxIndexEntry, string? miraxIndexSha1)
    : IAsyncDisposable
{
    public string FileName { get; } = fileName;
    public SlideFileKind Kind { get; } = kind;
    public long Length { get; } = length;
    public string Sha1 { get; } = sha1;
    public string? MiraxIndexEntry { get; } = miraxIndexEntry;

    /// <summary>What <c>fileHash</c> names: the file's SHA-1, or the .mrxs index's for MIRAX.</summary>
    public string Fingerprint { get; } = miraxIndexSha1 ?? sha1;

    /// <summary>Why the sender's fingerprint or length disagree with what arrived, or null.</summary>
    public string? Mismatch(string? expectedSha1, long? expectedLength)
    {
        if (expectedSha1 is not null && !expectedSha1.Equals(Fingerprint, StringComparison.OrdinalIgnoreCase))
        {
            return $"fileHash {expectedSha1} does not match the SHA-1 {Fingerprint} of the {(Kind == SlideFileKind.Mirax ? ".mrxs index" : "file")} received.";
        }

        return expectedLength is { } length && length != Length
            ? $"fileLength {length} does not match the {Length} bytes received."
            : null;
    }

    /// <summary>Makes the file durable (fsync, rename to its content address); only then may an event name it.</summary>
    public async Task<SlideFile> CommitAsync(CancellationToken cancellation)
    {
        var blob = await write.CommitAsync(cancellation);
        return new SlideFile(FileName, Kind, new BlobRef(blob.Sha256, blob.Sha1, blob.Length), MiraxIndexEntry, Kind == SlideFileKind.Mirax ? Fingerprint : null);
    }

    public ValueTask DisposeAsync() => write.DisposeAsync();
}

/// <summary>
/// Streams a slide file (gigabytes) from the request into the blob store: 80 KiB at a time, hashed as it
/// passes, never held in memory. A MIRAX zip is then read from the written blob (its central directory,
/// then the .mrxs entry alone) to find and fingerprint the index.
/// </summary>
public sealed class SlideFileReceiver(IBlobStore blobs)
{
    /// <returns>The received file, or why it cannot be a slide (a 400).</returns>
    public async Task<(ReceivedSlideFile? File, string? Error)> ReceiveAsync(Stream content, string fileName, bool isZip, CancellationToken cancellation)
    {
        var write = blobs.BeginWrite();
        try
        {
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            var buffer = new byte[81920];
            long length = 0;
            int read;
            while ((read = await ReadUploadAsync(content, buffer, cancellation)) > 0)
            {
                sha1.AppendData(buffer, 0, read);
                await write.Content.WriteAsync(buffer.AsMemory(0, read), cancellation);
                length += read;
            }

            if (length == 0)
            {
                await write.DisposeAsync();
                return (null, "The file part is empty.");
            }

            var fileSha1 = Convert.ToHexStringLower(sha1.GetHashAndReset());
            if (!isZip)
            {
                return (new ReceivedSlideFile(write, fileName, SlideFileKind.SingleFile, length, fileSha1, null, null), null);
            }

            var (entry, indexSha1, error) = await FindMiraxIndexAsync(write, cancellation);
            if (error is not null)
            {
                await write.DisposeAsync();
                return (null, error);
            }

            return (new ReceivedSlideFile(write, Path.GetFileName(entry!), SlideFileKind.Mirax, length, fileSha1, entry, indexSha1), null);
        }
        catch
        {
            await write.DisposeAsync();
            throw;
        }
    }

    private static async Task<(string? Entry, string? Sha1, string? Error)> FindMiraxIndexAsync(IBlobWrite write, CancellationToken cancellation)
    {
        await using var written = await SeekableZip.OpenAsync(await write.OpenWrittenAsync(cancellation), cancellation);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(written, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            return (null, null, $"The file part is not a readable zip archive: {e.Message}");
        }

        using (zip)
        {
            var indexes = zip.Entries.Where(MiraxArchive.IsIndex).ToList();
            if (indexes.Count != 1)
            {
                return (null, null, indexes.Count == 0
                    ? "The uploaded archive does not contain the Mirax descriptor file (.mrxs file)."
                    : $"The uploaded archive contains {indexes.Count} .mrxs files; send one MIRAX slide per call.");
            }

            try
            {
                await using var index = await indexes[0].OpenAsync(cancellation);
                using var sha1 = SHA1.Create();
                var hash = await sha1.ComputeHashAsync(index, cancellation);
                return (indexes[0].FullName, Convert.ToHexStringLower(hash), null);
            }
            catch (InvalidDataException e)
            {
                return (null, null, $"The .mrxs entry of the archive cannot be read: {e.Message}");
            }
        }
    }

    private static async ValueTask<int> ReadUploadAsync(Stream content, byte[] buffer, CancellationToken cancellation)
    {
        try
        {
            return await content.ReadAsync(buffer, cancellation);
        }
        catch (Exception e) when (e is IOException or InvalidDataException && e is not UploadStreamException && !cancellation.IsCancellationRequested)
        {
            throw new UploadStreamException(e);
        }
    }
}

/// <summary>The shape of a MIRAX slide inside a zip: the index <c>name.mrxs</c> and its data folder <c>name/</c> beside it.</summary>
public static class MiraxArchive
{
    public static bool IsIndex(ZipArchiveEntry entry) =>
        entry.FullName.EndsWith(".mrxs", StringComparison.OrdinalIgnoreCase) && !entry.FullName.EndsWith('/') && entry.Name.Length > ".mrxs".Length;

    /// <summary>The entries a MIRAX slide is made of: the index and everything under its data folder.</summary>
    public static bool BelongsTo(ZipArchiveEntry entry, string indexEntry)
    {
        if (entry.FullName == indexEntry)
        {
            return true;
        }

        var folder = indexEntry[..^".mrxs".Length] + "/";
        return entry.FullName.StartsWith(folder, StringComparison.Ordinal) && !entry.FullName.EndsWith('/');
    }
}

/// <summary>
/// <see cref="ZipArchive"/> reads a non-seekable stream by copying it into memory; a slide zip is gigabytes.
/// A blob store whose streams cannot seek (a remote bucket) is read through a temporary file instead.
/// </summary>
public static class SeekableZip
{
    public static async Task<Stream> OpenAsync(Stream stream, CancellationToken cancellation)
    {
        if (stream.CanSeek)
        {
            return stream;
        }

        var copy = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await using (stream)
        {
            await stream.CopyToAsync(copy, 81920, cancellation);
        }

        copy.Position = 0;
        return copy;
    }
}
