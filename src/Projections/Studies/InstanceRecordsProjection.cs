using EventSourced.Domain.Studies;
using EventSourced.Projections.Qido;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections;

namespace EventSourced.Projections.Studies;

/// <summary>
/// The document every stored instance has, <see cref="QidoInstance"/> (its query columns, its header, and where its bytes
/// are: the columns <see cref="InstanceLocations"/> reads), written inline without reading it first. As a multi-stream
/// aggregation it cost each STOW request a load and JasperFx's slicing, grouping and fan-out of every event; but a new
/// instance (<see cref="InstanceStored"/>: the study did not hold its SOP Instance UID) needs nothing of what is stored:
/// its record is the event's instance. What needs the stored document (an erasure keeps the first storage time) loads
/// it, in one query per batch and only for the batches that carry one.
/// Within a batch (a request's events live; a page of the log in a rebuild) the documents' states are followed in
/// event order and each touched document is written once at the end, as the aggregation did: a hidden or departed
/// instance is deleted, a replacement or a moved-in instance overwrites, a restored one comes back. Rebuilt like any
/// projection: the rebuild empties the table first.
/// </summary>
public sealed partial class InstanceRecordsProjection : EventProjection, IJasperFxProjection<IDocumentOperations>, IInlineProjection<IDocumentOperations>
{
    public InstanceRecordsProjection()
    {
        RegisterPublishedType(typeof(QidoInstance));
    }

    Task IInlineProjection<IDocumentOperations>.ApplyAsync(IDocumentOperations operations, IEnumerable<StreamAction> streams, CancellationToken cancellation) =>
        ApplyBatchAsync(operations, [.. streams.SelectMany(s => s.Events)], cancellation);

    Task IJasperFxProjection<IDocumentOperations>.ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation) =>
        ApplyBatchAsync(operations, events, cancellation);

    /// <summary>One event as a batch of its own (the inline and rebuild paths above hand over whole batches).</summary>
    public override ValueTask ApplyAsync(IDocumentOperations operations, IEvent e, CancellationToken cancellation) =>
        new(ApplyBatchAsync(operations, [e], cancellation));

    private async Task ApplyBatchAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        foreach (var tenantEvents in events.GroupBy(e => e.TenantId))
        {
            var steps = tenantEvents.SelectMany(e => Steps(e.Data)).ToList();
            if (steps.Count == 0)
            {
                continue;
            }

            var tenant = tenantEvents.Key is { } id && id != operations.TenantId ? operations.ForTenant(id) : operations;
            var records = new Records();
            await records.LoadErasedAsync(tenant, steps, cancellation);
            foreach (var step in steps)
            {
                records.Apply(step);
            }

            records.Write(tenant);
        }
    }

    /// <summary>
    /// The events that change the documents, the lifecycle events' children in their place, in the order the
    /// aggregations' fan-outs put them (each fan-out inserted its children right after the parent, so a revoke's
    /// restored instances came before its hidden rejection note; they are different instances either way).
    /// </summary>
    private static IEnumerable<object> Steps(object data) => data switch
    {
        InstanceStored or InstanceReplaced or InstanceErased => [data],
        InstancesStored batch => batch.Children(),
        StudyDeprecationCompleted completed => completed.Hidden,
        StudyDeprecationRevoked revoked => [.. revoked.Restored, .. revoked.Hidden],
        StudyContentDeleted deleted => deleted.Hidden,
        DeletedContentRestored restored => restored.Restored,
        SeriesRefiledOut departed => departed.Departed,
        SeriesRefiledIn arrived => arrived.Arrived,
        _ => [],
    };

    /// <summary>One batch's view of the documents it touches: known (loaded or written here) or not read at all.</summary>
    private sealed class Records
    {
        private readonly Dictionary<Guid, Known<QidoInstance>> instances = [];

        /// <summary>An erasure keeps what was stored before it (first storage time, replaced hash): those documents are read, in one query.</summary>
        public async Task LoadErasedAsync(IDocumentOperations tenant, IReadOnlyList<object> steps, CancellationToken cancellation)
        {
            var erased = steps.OfType<InstanceErased>().ToList();
            if (erased.Count == 0)
            {
                return;
            }

            var instanceIds = erased.Select(e => QidoKeys.Instance(e.StudyStreamId, e.Instance.SopInstanceUid)).Distinct().ToArray();
            var stored = (await tenant.LoadManyAsync<QidoInstance>(cancellation, instanceIds)).ToDictionary(i => i.Id);
            foreach (var id in instanceIds)
            {
                instances[id] = new Known<QidoInstance>(stored.GetValueOrDefault(id), Changed: false);
            }
        }

        public void Apply(object step)
        {
            switch (step)
            {
                case InstanceStored stored:
                    Set(QidoInstances.From(stored.StudyStreamId, stored.Instance, stored.StoredAt, null));
                    break;
                case InstanceReplaced replaced:
                    Set(QidoInstances.From(replaced.StudyStreamId, replaced.Instance, replaced.ReplacedAt, replaced.PreviousSha256));
                    break;
                case InstanceRefiled refiled:
                    Set(QidoInstances.From(refiled.StudyStreamId, refiled.Instance, refiled.StoredAt, null));
                    break;
                case InstanceHidden hidden: // hidden, or departed to another study (which has its own record)
                    instances[QidoKeys.Instance(hidden.StudyStreamId, hidden.SopInstanceUid)] = new(null, Changed: true);
                    break;
                case InstanceErased erased:
                    Erase(erased);
                    break;
            }
        }

        /// <summary>A rewritten instance keeps its first storage time; one that is hidden (no document) stays hidden.</summary>
        private void Erase(InstanceErased erased)
        {
            var id = QidoKeys.Instance(erased.StudyStreamId, erased.Instance.SopInstanceUid);
            instances[id] = instances[id].Document is { } instance
                ? new(QidoInstances.From(erased.StudyStreamId, erased.Instance, instance.StoredAt, instance.ReplacedSha256), Changed: true)
                : new(null, Changed: true);
        }

        private void Set(QidoInstance instance) => instances[instance.Id] = new(instance, Changed: true);

        /// <summary>
        /// The batch's documents through Marten's upsert (a multi-row form of it measured no gain: the row's cost is its
        /// header's compression and its indexes) and delete.
        /// </summary>
        public void Write(IDocumentOperations tenant)
        {
            foreach (var (id, known) in instances.Where(i => i.Value.Changed))
            {
                if (known.Document is { } instance)
                {
                    tenant.Store(instance);
                }
                else
                {
                    tenant.Delete<QidoInstance>(id);
                }
            }
        }
    }

    private sealed record Known<T>(T? Document, bool Changed) where T : class;
}
