using EventSourced.Domain.Archive;
using EventSourced.Domain.Reports;
using EventSourced.Domain.Studies;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections;

namespace EventSourced.Projections.Blobs;

/// <summary>
/// A blob some event of this tenant names: the orphan sweeper's fast filter. History, not current state:
/// a replaced instance's old blob stays referenced (its <see cref="InstanceStored"/> event is still
/// replayable). The one removal: a purge (<see cref="DeletedContentPurged"/>) releases the blobs of
/// deleted content, and the sweeper then asks the events whether any live one still needs them.
/// Id: the first 128 bits of the blob's SHA-256 (<see cref="IdOf"/>), in the id column only (the document is
/// empty): a row of about 60 bytes instead of 200. Two blobs sharing those bits would share a row: the sweeper
/// would keep an orphan, or, after a purge of one, ask the events about the other; never remove a needed blob.
/// </summary>
public sealed record ReferencedBlob
{
    [System.Text.Json.Serialization.JsonIgnore]
    public Guid Id { get; init; }

    /// <summary>The row's id for a blob: its SHA-256's first 32 hex digits, read as a UUID.</summary>
    public static Guid IdOf(string sha256) => Guid.ParseExact(sha256.AsSpan(0, 32), "N");

    public static ReferencedBlob For(string sha256) => new() { Id = IdOf(sha256) };
}

/// <summary>
/// Inline: the row is written in the same transaction as the event that names the blob (an upsert, no read).
/// A batch of events (a request's, live; a page of the log, in a rebuild) is written as one statement: the
/// rows the events name, each row's last step in event order (kept, or released by a purge) taken, the kept
/// ones upserted together.
/// </summary>
public sealed partial class ReferencedBlobProjection : EventProjection, IJasperFxProjection<IDocumentOperations>, IInlineProjection<IDocumentOperations>
{
    private (string Table, string Data)? target;

    /// <summary>Declares its document, so a rebuild (and the rebuild-equals-live check) knows the table it writes.</summary>
    public ReferencedBlobProjection()
    {
        RegisterPublishedType(typeof(ReferencedBlob));
    }

    Task IInlineProjection<IDocumentOperations>.ApplyAsync(IDocumentOperations operations, IEnumerable<StreamAction> streams, CancellationToken cancellation) =>
        ApplyBatch(operations, [.. streams.SelectMany(s => s.Events)]);

    Task IJasperFxProjection<IDocumentOperations>.ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation) =>
        ApplyBatch(operations, events);

    /// <summary>One event as a batch of its own.</summary>
    public override ValueTask ApplyAsync(IDocumentOperations operations, IEvent e, CancellationToken cancellation) =>
        new(ApplyBatch(operations, [e]));

    private Task ApplyBatch(IDocumentOperations operations, IReadOnlyList<IEvent> events)
    {
        foreach (var tenantEvents in events.GroupBy(e => e.TenantId))
        {
            // Each row's last step: true = referenced (stored), false = released (deleted).
            var rows = new Dictionary<Guid, bool>();
            foreach (var e in tenantEvents)
            {
                foreach (var (sha, referenced) in Steps(e.Data))
                {
                    rows[ReferencedBlob.IdOf(sha)] = referenced;
                }
            }

            if (rows.Count == 0)
            {
                continue;
            }

            var tenant = tenantEvents.Key is { } id && id != operations.TenantId ? operations.ForTenant(id) : operations;
            foreach (var released in rows.Where(r => !r.Value))
            {
                tenant.Delete<ReferencedBlob>(released.Key);
            }

            var kept = rows.Where(r => r.Value).Select(r => r.Key).ToArray();
            if (kept.Length > 0)
            {
                var (table, data) = target ??= (
                    operations.DocumentStore.Options.FindOrResolveDocumentType(typeof(ReferencedBlob)).TableName.QualifiedName,
                    operations.DocumentStore.Options.Serializer().ToJson(new ReferencedBlob()));
                tenant.QueueSqlCommand(
                    $"insert into {table} (tenant_id, id, data) select ?, u.id, ?::jsonb from unnest(?::uuid[]) as u(id) " +
                    "on conflict (tenant_id, id) do update set data = excluded.data",
                    tenantEvents.Key ?? operations.TenantId, data, kept);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The blobs an event names: referenced (true) or released (false), in the event's order.</summary>
    private static IEnumerable<(string Sha256, bool Kept)> Steps(object data) => data switch
    {
        InstanceStored e => [(e.Instance.Blob.Sha256, true)],
        InstancesStored e => e.Instances.Select(i => (i.Blob.Sha256, true)),
        InstanceReplaced e => [(e.Instance.Blob.Sha256, true)],
        DeletedContentRestored e => e.Restored.Select(r => (r.Instance.Blob.Sha256, true)),
        DeletedContentPurged e => e.ReleasedBlobs.Select(sha => (sha, false)),
        InstanceErased e => [(e.Instance.Blob.Sha256, true)],
        ReportDelivered e => [(e.Content.Blob.Sha256, true)],
        StudyGroupReportDelivered e => [(e.Content.Blob.Sha256, true)],
        SlideFileStored e => [(e.File.Blob.Sha256, true)],
        SeriesResultRecorded { File: { } file } => [(file.Sha256, true)],
        _ => [],
    };
}
