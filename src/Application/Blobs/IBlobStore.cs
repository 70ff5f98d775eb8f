namespace EventSourced.Application.Blobs;

/// <summary>A stored blob's identity: content-addressed by SHA-256 (lower-case hex), with its SHA-1 (the pathology API asks for it) and length.</summary>
public sealed record BlobReference(string Sha256, string Sha1, long Length);

/// <summary>One write's outcome in a group commit: its durable blob, or the I/O failure that kept it from being committed.</summary>
public sealed record BlobCommit(BlobReference? Blob, IOException? Failure);

/// <summary>
/// Where instances, reports and other files live. Content-addressed: writing the same bytes twice stores
/// them once. A blob is durable (fsynced, atomically renamed into place) before <see cref="IBlobWrite.CommitAsync"/>
/// returns; only then may an event point at it (design.md, "Blobs").
/// </summary>
public interface IBlobStore
{
    /// <summary>Starts a write: bytes written to <see cref="IBlobWrite.Content"/> go to a temporary file and through both hashes in one pass.</summary>
    IBlobWrite BeginWrite();

    /// <summary>
    /// Commits several writes of this store together (one request's parts), with the same guarantee as
    /// <see cref="IBlobWrite.CommitAsync"/> for each: when this returns, every blob reported committed is
    /// durable under its address, and only then may an event name it. A store whose durable step has a
    /// fixed cost (a blocked thread, a directory fsync) pays it once for the group. The outcomes come back
    /// in the order of <paramref name="writes"/>; a write that failed is not committed (the others are).
    /// When it throws, nothing may be recorded: some blobs may already be committed (orphans, for the
    /// sweeper), the rest stay temporary until their writes are disposed. The writes are not disposed here.
    /// </summary>
    Task<IReadOnlyList<BlobCommit>> CommitAllAsync(IReadOnlyList<IBlobWrite> writes, CancellationToken cancellation) =>
        CommitEachAsync(writes, cancellation);

    /// <summary>Each write committed on its own, concurrently: the group commit of a store that has nothing to share between them.</summary>
    static async Task<IReadOnlyList<BlobCommit>> CommitEachAsync(IReadOnlyList<IBlobWrite> writes, CancellationToken cancellation) =>
        await Task.WhenAll(writes.Select(async write =>
        {
            try
            {
                return new BlobCommit(await write.CommitAsync(cancellation), null);
            }
            catch (IOException e)
            {
                return new BlobCommit(null, e);
            }
        }));

    /// <summary>The blob's bytes, or null when no blob has that SHA-256.</summary>
    Stream? OpenRead(string sha256);

    bool Exists(string sha256);

    /// <summary>Removes a blob (retention, orphan sweeping). Removing an absent blob is not an error.</summary>
    void Delete(string sha256);

    /// <summary>Every committed blob with its last modification time (its commit, or the latest commit of the same bytes).</summary>
    IEnumerable<(string Sha256, DateTimeOffset ModifiedAt)> ListCommitted();

    /// <summary>
    /// Removes a committed blob only if it has not been modified (committed again) since <paramref name="notModifiedSince"/>;
    /// safe against a concurrent commit of the same bytes: either that commit's copy stays, or the blob is not removed.
    /// True when removed.
    /// </summary>
    bool DeleteIfNotModifiedSince(string sha256, DateTimeOffset notModifiedSince);

    /// <summary>Removes temporary files of writes that never committed (a crash, a dropped request) older than <paramref name="olderThan"/>.</summary>
    int SweepAbandonedWrites(TimeSpan olderThan);
}

/// <summary>One write in progress. Disposing without committing removes the temporary file.</summary>
public interface IBlobWrite : IAsyncDisposable
{
    /// <summary>Write-only stream; every byte is hashed as it passes.</summary>
    Stream Content { get; }

    /// <summary>Reads back what was written so far (flushed first), before committing: parse, then decide to commit or drop.</summary>
    Task<Stream> OpenWrittenAsync(CancellationToken cancellation);

    /// <summary>Flushes to disk, fsyncs, and renames the file to its content address. Idempotent for identical content.</summary>
    Task<BlobReference> CommitAsync(CancellationToken cancellation);
}
