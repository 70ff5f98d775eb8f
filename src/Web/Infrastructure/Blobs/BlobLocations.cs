using EventSourced.Application.Blobs;
using EventSourced.Domain.Studies;
using EventSourced.Projections.Storage;
using Marten;
using Microsoft.Extensions.Options;

namespace EventSourced.Web.Infrastructure.Blobs;

/// <summary>The configured locations (<see cref="StorageOptions"/>), each with its store, built once at start.</summary>
public sealed class BlobLocations : IBlobLocations, IDisposable
{
    private readonly Dictionary<StorageLocation, IBlobStore> stores = [];
    private readonly List<StorageLocation> all = [];

    public BlobLocations(IOptions<BlobStoreOptions> blobs, IOptions<StorageOptions> storage, IWebHostEnvironment environment)
    {
        var options = storage.Value;
        var localRoot = Path.GetFullPath(blobs.Value.Root, environment.ContentRootPath);
        Local = new StorageLocation(StorageKind.PhysicalMedium, options.LocalMediumName);
        Add(Local, new LocalDiskBlobStore(localRoot, blobs.Value.GroupSync));
        foreach (var (name, medium) in options.PhysicalMedia)
        {
            if (string.IsNullOrWhiteSpace(medium.Root))
            {
                throw new InvalidOperationException($"Storage:PhysicalMedia:{name}:Root is required.");
            }

            Add(new StorageLocation(StorageKind.PhysicalMedium, name), new LocalDiskBlobStore(Path.GetFullPath(medium.Root, environment.ContentRootPath), blobs.Value.GroupSync));
        }

        foreach (var (name, bucket) in options.Buckets)
        {
            if (string.IsNullOrWhiteSpace(bucket.ServiceUrl))
            {
                throw new InvalidOperationException($"Storage:Buckets:{name}:ServiceUrl is required.");
            }

            // Staged under the local medium's root: same file system as its temporary files, swept with them.
            Add(new StorageLocation(StorageKind.Bucket, name), new S3BlobStore(bucket, name, Path.Combine(localRoot, "staging", "buckets", StagingFolder(name))));
        }
    }

    public StorageLocation Local { get; }

    public IReadOnlyList<StorageLocation> All => all;

    /// <summary>The local medium's store: where every write starts.</summary>
    public IBlobStore LocalStore => stores[Local];

    public IBlobStore? StoreAt(StorageLocation location) => stores.GetValueOrDefault(location);

    public async Task<bool> IsAvailableAsync(StorageLocation location, CancellationToken cancellation) =>
        location.Kind == StorageKind.Bucket && stores.GetValueOrDefault(location) is S3BlobStore bucket && await bucket.IsAvailableAsync(cancellation);

    public void Dispose()
    {
        foreach (var store in stores.Values.OfType<IDisposable>())
        {
            store.Dispose();
        }
    }

    private void Add(StorageLocation location, IBlobStore store)
    {
        if (!stores.TryAdd(location, store))
        {
            throw new InvalidOperationException($"Storage location {location} is configured twice.");
        }

        all.Add(location);
    }

    /// <summary>A configured name as one safe folder name.</summary>
    private static string StagingFolder(string name) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)))[..16];
}

/// <summary>
/// The <see cref="IBlobStore"/> the container hands out: every location behind the interface's
/// unchanged meaning. Writes go to the local medium (an instance of a relocated study is moved to its
/// location as it commits, see InstanceReceiver); a read finds the blob at whichever location holds it,
/// the local medium first; <see cref="Delete"/> removes the blob everywhere; the listing and the
/// conditional removal the orphan sweeper uses cover every location, so one sweep handles them all.
/// </summary>
public sealed class LocatedBlobStore(BlobLocations locations, ILogger<LocatedBlobStore> logger) : IBlobStore
{
    private IEnumerable<IBlobStore> Stores => locations.All.Select(l => locations.StoreAt(l)!);

    public IBlobWrite BeginWrite() => locations.LocalStore.BeginWrite();

    public Task<IReadOnlyList<BlobCommit>> CommitAllAsync(IReadOnlyList<IBlobWrite> writes, CancellationToken cancellation) =>
        locations.LocalStore.CommitAllAsync(writes, cancellation);

    public Stream? OpenRead(string sha256)
    {
        foreach (var store in Stores)
        {
            if (store.OpenRead(sha256) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    public bool Exists(string sha256) => Stores.Any(store => store.Exists(sha256));

    public void Delete(string sha256)
    {
        foreach (var store in Stores)
        {
            store.Delete(sha256);
        }
    }

    /// <summary>A blob held at several locations is listed once, with its latest modification.</summary>
    public IEnumerable<(string Sha256, DateTimeOffset ModifiedAt)> ListCommitted() =>
        Stores.SelectMany(store => store.ListCommitted())
            .GroupBy(b => b.Sha256, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Max(b => b.ModifiedAt)));

    public bool DeleteIfNotModifiedSince(string sha256, DateTimeOffset notModifiedSince)
    {
        var removed = false;
        foreach (var store in Stores)
        {
            removed |= store.DeleteIfNotModifiedSince(sha256, notModifiedSince);
        }

        return removed;
    }

    public int SweepAbandonedWrites(TimeSpan olderThan)
    {
        var removed = 0;
        foreach (var location in locations.All)
        {
            try
            {
                removed += locations.StoreAt(location)!.SweepAbandonedWrites(olderThan);
            }
            catch (IOException e)
            {
                logger.LogWarning(e, "Sweeping abandoned writes of {Location} failed", location);
            }
        }

        return removed;
    }
}

/// <summary>Reads <see cref="StudyPlacement"/> rows; with only the local medium configured, asks nothing.</summary>
public sealed class StudyPlacementLookup(IDocumentStore store, IBlobLocations locations) : IStudyPlacement
{
    public async Task<StorageLocation?> LocationOfAsync(string studyInstanceUid, CancellationToken cancellation)
    {
        if (locations.All.Count == 1)
        {
            return null;
        }

        await using var session = store.QuerySession();
        var placed = await session.Query<StudyPlacement>().Where(p => p.StudyInstanceUid == studyInstanceUid).FirstOrDefaultAsync(cancellation);
        return placed?.Location;
    }

    public async Task<IReadOnlyDictionary<Guid, StorageLocation>> RelocatedAsync(IReadOnlyCollection<Guid> streams, CancellationToken cancellation)
    {
        await using var session = store.QuerySession();
        var ids = streams.ToArray();
        var placed = await session.Query<StudyPlacement>().Where(p => p.Id.IsOneOf(ids)).ToListAsync(cancellation);
        return placed.ToDictionary(p => p.Id, p => p.Location);
    }
}

/// <summary>
/// The crash tests' fault injection (<see cref="StorageOptions.RelocationCrashAt"/>, <c>step</c> or
/// <c>step@target-name</c>): at that step the process is killed, no shutdown, no flush, as a power cut
/// would. Unconfigured (always, in service): nothing happens.
/// </summary>
public sealed class RelocationCheckpoints(IOptions<StorageOptions> options, ILogger<RelocationCheckpoints> logger) : IRelocationCheckpoints
{
    public void Reached(string step, StorageLocation target)
    {
        if (options.Value.RelocationCrashAt is not { Length: > 0 } configured)
        {
            return;
        }

        var at = configured.Split('@', 2);
        if (at[0] == step && (at.Length == 1 || at[1] == target.Name))
        {
            logger.LogCritical("Relocation crash injected at step {Step} towards {Target}", step, target);
            System.Diagnostics.Process.GetCurrentProcess().Kill();
        }
    }
}
