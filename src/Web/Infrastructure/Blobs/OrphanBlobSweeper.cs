using EventSourced.Application.Blobs;
using EventSourced.Domain.Studies;
using EventSourced.Projections.Blobs;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSourced.Web.Infrastructure.Blobs;

/// <summary>
/// Removes committed blobs that no event references: a crash between a blob's commit and its event's
/// append, or an upload refused after its blob was committed (a conflicting duplicate). The store is
/// content-addressed and shared by tenants, and history must stay replayable, so "referenced" means
/// named by any event of any tenant, replaced instances' old events included, never "in the current
/// read model". A blob is a candidate only once its last commit is older than the grace period
/// (<see cref="BlobStoreOptions.OrphanGracePeriod"/>), so a request between commit and append keeps its
/// blob. Candidates are filtered through the <see cref="ReferencedBlob"/> rows (all tenants), and the
/// ones left are checked against the events themselves before removal: an event written before the
/// projection existed, or by a type the projection does not know, still protects its blob. Deleted
/// content's blobs become candidates once purged (the purge removes their rows and releases them from
/// its stream's events, see <see cref="NamedByAnyEventAsync"/>).
/// </summary>
public sealed class OrphanBlobSweeper(
    IBlobStore blobs,
    IDocumentStore store,
    NpgsqlDataSource database,
    IOptions<BlobStoreOptions> options,
    TimeProvider clock,
    ILogger<OrphanBlobSweeper> logger) : BackgroundService
{
    private const int Batch = 500;

    /// <summary>Marten's default event type name (the type name in snake case), as the mt_events rows carry it.</summary>
    private static readonly string PurgedEventType = string.Concat(nameof(DeletedContentPurged)
        .Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.OrphanSweepInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is IOException or NpgsqlException or UnauthorizedAccessException)
            {
                logger.LogWarning(e, "Orphan blob sweep failed; retrying at the next interval");
            }
        }
    }

    /// <summary>One pass: the number of blobs removed.</summary>
    public async Task<int> SweepOnceAsync(CancellationToken cancellation)
    {
        var cutoff = clock.GetUtcNow() - options.Value.OrphanGracePeriod;
        var removed = 0;
        foreach (var chunk in blobs.ListCommitted().Where(b => b.ModifiedAt < cutoff).Select(b => b.Sha256).Chunk(Batch))
        {
            var projected = await ProjectedReferencesAsync(chunk, cancellation);
            var unprojected = chunk.Where(sha => !projected.Contains(sha)).ToArray();
            if (unprojected.Length == 0)
            {
                continue;
            }

            var named = await NamedByAnyEventAsync(unprojected, cancellation);
            foreach (var sha in unprojected.Where(sha => !named.Contains(sha)))
            {
                if (blobs.DeleteIfNotModifiedSince(sha, cutoff))
                {
                    removed++;
                    logger.LogInformation("Removed orphan blob {Sha256}: no event references it", sha);
                }
            }
        }

        return removed;
    }

    /// <summary>
    /// The hashes among <paramref name="shas"/> some tenant's <see cref="ReferencedBlob"/> row names. The rows are keyed by
    /// (tenant, id), so the ids are probed in each tenant's part of that key: the tenants are walked on the key itself
    /// (a loose index scan, one probe per tenant), never by reading the table (a scan per 500 blobs, every sweep: at a
    /// million rows 0.9 s against 3.5–5.4 ms, docs/benchmarks.md).
    /// </summary>
    public async Task<HashSet<string>> ProjectedReferencesAsync(string[] shas, CancellationToken cancellation)
    {
        var table = store.Options.FindOrResolveDocumentType(typeof(ReferencedBlob)).TableName.QualifiedName;
        await using var command = database.CreateCommand(
            $"with recursive tenants(t) as (select min(tenant_id) from {table} " +
            $"union all select (select min(r.tenant_id) from {table} r where r.tenant_id > tenants.t) from tenants where tenants.t is not null) " +
            $"select distinct d.id from tenants join {table} d on d.tenant_id = tenants.t where d.id = any(@ids)");
        command.Parameters.AddWithValue("ids", shas.Select(ReferencedBlob.IdOf).Distinct().ToArray());
        var found = new HashSet<Guid>();
        await using (var reader = await command.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                found.Add(reader.GetGuid(0));
            }
        }

        return shas.Where(sha => found.Contains(ReferencedBlob.IdOf(sha))).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The authority: any live event, of any type and tenant, archived or not, that names the hash
    /// (<see cref="EventBlobNames"/>, found through its index). An event is not live for a hash once a later purge of
    /// deleted content in its stream (<see cref="DeletedContentPurged"/>) released that hash: its stream's earlier
    /// events no longer need the bytes. An event of another stream (another tenant holding the same file), or a later
    /// one of the same stream (the instance stored again), still does.
    /// </summary>
    private async Task<HashSet<string>> NamedByAnyEventAsync(string[] shas, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(NamedByAnyEventSql($"\"{store.Options.Events.DatabaseSchemaName}\".mt_events"));
        command.Parameters.AddWithValue("shas", shas);
        command.Parameters.AddWithValue("purged", PurgedEventType);
        var named = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            named.Add(reader.GetString(0));
        }

        return named;
    }

    /// <summary>
    /// <see cref="NamedByAnyEventAsync"/>'s statement over the event table <paramref name="events"/> (parameters
    /// <c>@shas</c>, <c>@purged</c>): per hash, the events naming it through the index, each checked against its own
    /// stream's purges (the stream's key).
    /// </summary>
    public static string NamedByAnyEventSql(string events) =>
        $"select s from unnest(@shas) as s where exists (select 1 from {events} e where {EventBlobNames.Names("e", "s")} " +
        $"and not exists (select 1 from {events} p where p.type = @purged and p.tenant_id = e.tenant_id and p.stream_id = e.stream_id " +
        "and p.seq_id >= e.seq_id and p.data -> 'ReleasedBlobs' @> jsonb_build_array(s)))";
}
