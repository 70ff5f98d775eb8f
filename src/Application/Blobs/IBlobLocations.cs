using EventSourced.Domain.Studies;

namespace EventSourced.Application.Blobs;

/// <summary>
/// The configured storage locations: the local medium every study starts on, further physical media
/// (local directories) and buckets (S3-compatible). Each has its own <see cref="IBlobStore"/>; the
/// <see cref="IBlobStore"/> the container hands out spans them all (writes go to the local medium,
/// reads find a blob wherever it is), so callers that do not care where a study lives keep working.
/// </summary>
public interface IBlobLocations
{
    /// <summary>The local medium (configuration <c>Blobs:Root</c>): where a study lives until it is relocated.</summary>
    StorageLocation Local { get; }

    /// <summary>Every configured location, the local medium first.</summary>
    IReadOnlyList<StorageLocation> All { get; }

    /// <summary>The store of a configured location; null when <paramref name="location"/> is not configured.</summary>
    IBlobStore? StoreAt(StorageLocation location);

    /// <summary>Whether a configured bucket can be used now (it exists on its service and answers); false for anything else.</summary>
    Task<bool> IsAvailableAsync(StorageLocation location, CancellationToken cancellation);
}

/// <summary>Where a study's blobs are to be written: the location its last relocation named, across tenants by StudyInstanceUID.</summary>
public interface IStudyPlacement
{
    /// <summary>Null: the local medium.</summary>
    Task<StorageLocation?> LocationOfAsync(string studyInstanceUid, CancellationToken cancellation);

    /// <summary>The locations of those of <paramref name="streams"/> that were relocated (any tenant); the others are on the local medium.</summary>
    Task<IReadOnlyDictionary<Guid, StorageLocation>> RelocatedAsync(IReadOnlyCollection<Guid> streams, CancellationToken cancellation);
}

/// <summary>
/// Test-only fault injection for crash tests: the relocation calls <see cref="Reached"/> between its steps;
/// the service's implementation ends the process abruptly at the one step its configuration names, and
/// does nothing when none is configured (always, outside the crash tests).
/// </summary>
public interface IRelocationCheckpoints
{
    void Reached(string step, StorageLocation target);
}

public static class BlobCopy
{
    /// <summary>
    /// Copies one blob into <paramref name="target"/> and reads the copy back to check its SHA-256: true
    /// when the target holds the exact bytes; false when <paramref name="source"/> has no such blob.
    /// </summary>
    public static async Task<bool> CopyVerifiedAsync(IBlobStore source, IBlobStore target, string sha256, CancellationToken cancellation)
    {
        await using (var content = source.OpenRead(sha256))
        {
            if (content is null)
            {
                return false;
            }

            await using var write = target.BeginWrite();
            await content.CopyToAsync(write.Content, cancellation);
            var committed = await write.CommitAsync(cancellation);
            if (committed.Sha256 != sha256)
            {
                throw new IOException($"Blob {sha256} read back from its source as {committed.Sha256}.");
            }
        }

        await using var copy = target.OpenRead(sha256) ?? throw new IOException($"Blob {sha256} is missing at its target right after its copy.");
        var hash = Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(copy, cancellation));
        return hash == sha256 ? true : throw new IOException($"The copy of blob {sha256} reads back as {hash}.");
    }
}
