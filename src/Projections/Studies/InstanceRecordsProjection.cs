using EventSourced.Domain.Studies;
using EventSourced.Projections.Qido;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections;

namespace EventSourced.Projections.Studies;

/// <summary>
/// The two documents every stored instance has, <see cref="QidoInstance"/> and <see cref="InstanceLocation"/>,
/// written inline without reading them first. As multi-stream aggregations they cost each STOW request two
/// loads (one per projection) and JasperFx's slicing, grouping and fan-out of every event; but a new instance
/// (<see cref="InstanceStored"/>: the study did not hold its SOP Instance UID) needs nothing of what is stored:
/// its QIDO record is the event's instance, and its location is the event's unless another study of the tenant
/// already holds the same SOP Instance UID (the location is one per UID, the first stored stays: written as
/// an insert that yields to an existing row). What needs the stored document (an erasure keeps the first
/// storage time) loads it, in one query per batch and only for the batches that carry one.
/// Within a batch (a request's events live; a page of the log in a rebuild) the documents' states are
/// followed in event order and each touched document is written once at the end, as the aggregations
/// did: a hidden instance is deleted, a replacement or a moved-in instance overwrites, a restored one comes
/// back. Rebuilt like any projection: the rebuild empties both tables first.
/// </summary>
public sealed partial class InstanceRecordsProjection : EventProjection, IJasperFxProjection<IDocumentOperations>, IInlineProjection<IDocumentOperations>
{
    private LocationTarget? locationTarget;

    public InstanceRecordsProjection()
    {
        RegisterPublishedType(typeof(QidoInstance));
        RegisterPublishedType(typeof(InstanceLocation));
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

            records.Write(tenant, tenantEvents.Key ?? operations.TenantId, LocationTable(operations));
        }
    }

    /// <summary>
    /// The events that change the two documents, the lifecycle events' children in their place, in the order the
    /// aggregations' fan-outs put them (each fan-out inserted its children right after the parent, so a revoke's
    /// restored instances came before its hidden rejection note; they are different instances either way).
    /// </summary>
    private static IEnumerable<object> Steps(object data) => data switch
    {
        InstanceStored or InstanceReplaced or InstanceErased => [data],
        StudyDeprecationCompleted completed => completed.Hidden,
        StudyDeprecationRevoked revoked => [.. revoked.Restored, .. revoked.Hidden],
        StudyContentDeleted deleted => deleted.Hidden,
        DeletedContentRestored restored => restored.Restored,
        SeriesRefiledOut departed => departed.Departed.Select(h => new Departed(h)),
        SeriesRefiledIn arrived => arrived.Arrived,
        _ => [],
    };

    /// <summary>An instance that left its study for another: it leaves the study's QIDO records; its location follows the study it joined.</summary>
    private sealed record Departed(InstanceHidden Instance);

    /// <summary>The location table of this store (the live schema, or a rebuild's scratch schema), and the store's serializer.</summary>
    private sealed record LocationTarget(string Table, ISerializer Serializer);

    private LocationTarget LocationTable(IDocumentOperations operations) =>
        locationTarget ??= new(
            operations.DocumentStore.Options.FindOrResolveDocumentType(typeof(InstanceLocation)).TableName.QualifiedName,
            operations.DocumentStore.Options.Serializer());

    /// <summary>One batch's view of the documents it touches: known (loaded or written here) or not read at all.</summary>
    private sealed class Records
    {
        private readonly Dictionary<Guid, Known<QidoInstance>> instances = [];
        private readonly Dictionary<string, Known<InstanceLocation>> locations = new(StringComparer.Ordinal);

        /// <summary>Locations of new instances whose row was not read: inserted unless one exists.</summary>
        private readonly Dictionary<string, InstanceLocation> newLocations = new(StringComparer.Ordinal);

        /// <summary>An erasure keeps what was stored before it (first storage time, replaced hash): those documents are read, in one query each.</summary>
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

            var locationIds = erased.Select(e => e.Instance.SopInstanceUid).Distinct(StringComparer.Ordinal).ToArray();
            var located = (await tenant.LoadManyAsync<InstanceLocation>(cancellation, locationIds)).ToDictionary(l => l.Id, StringComparer.Ordinal);
            foreach (var id in locationIds)
            {
                locations[id] = new Known<InstanceLocation>(located.GetValueOrDefault(id), Changed: false);
            }
        }

        public void Apply(object step)
        {
            switch (step)
            {
                case InstanceStored stored:
                    Set(QidoInstances.From(stored.StudyStreamId, stored.Instance, stored.StoredAt, null));
                    StoreLocation(InstanceLocations.From(stored.Instance, stored.StoredAt));
                    break;
                case InstanceReplaced replaced:
                    Set(QidoInstances.From(replaced.StudyStreamId, replaced.Instance, replaced.ReplacedAt, replaced.PreviousSha256));
                    Set(InstanceLocations.From(replaced.Instance, replaced.ReplacedAt));
                    break;
                case InstanceRefiled refiled:
                    Set(QidoInstances.From(refiled.StudyStreamId, refiled.Instance, refiled.StoredAt, null));
                    Set(InstanceLocations.From(refiled.Instance, refiled.StoredAt));
                    break;
                case InstanceHidden hidden:
                    instances[QidoKeys.Instance(hidden.StudyStreamId, hidden.SopInstanceUid)] = new(null, Changed: true);
                    SetLocation(hidden.SopInstanceUid, null);
                    break;
                case Departed departed:
                    instances[QidoKeys.Instance(departed.Instance.StudyStreamId, departed.Instance.SopInstanceUid)] = new(null, Changed: true);
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
            var sop = erased.Instance.SopInstanceUid;
            SetLocation(sop, locations[sop].Document is { } location ? InstanceLocations.From(erased.Instance, location.StoredAt) : null);
        }

        private void Set(QidoInstance instance) => instances[instance.Id] = new(instance, Changed: true);

        private void Set(InstanceLocation location) => SetLocation(location.Id, location);

        private void SetLocation(string id, InstanceLocation? location)
        {
            newLocations.Remove(id);
            locations[id] = new(location, Changed: true);
        }

        /// <summary>A new instance's location: the first stored of its SOP Instance UID stays (another study of the tenant may hold it).</summary>
        private void StoreLocation(InstanceLocation location)
        {
            if (locations.TryGetValue(location.Id, out var known))
            {
                if (known.Document is null)
                {
                    locations[location.Id] = new(location, Changed: true);
                }
            }
            else
            {
                newLocations.TryAdd(location.Id, location);
            }
        }

        /// <summary>
        /// The batch's documents: the written QIDO records through Marten's upsert (a multi-row form of it measured no
        /// gain: the row's cost is its header's compression and its indexes), the new locations as one insert of all
        /// of them that yields to existing rows.
        /// </summary>
        public void Write(IDocumentOperations tenant, string tenantId, LocationTarget target)
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

            foreach (var (id, known) in locations.Where(l => l.Value.Changed))
            {
                if (known.Document is { } location)
                {
                    tenant.Store(location);
                }
                else
                {
                    tenant.Delete<InstanceLocation>(id);
                }
            }

            if (newLocations.Count > 0)
            {
                var located = newLocations.Values.ToList();
                tenant.QueueSqlCommand(
                    $"insert into {target.Table} (tenant_id, id, data, mt_version) " +
                    "select ?, u.id, u.data::jsonb, u.version from unnest(?::varchar[], ?::text[], ?::uuid[]) as u(id, data, version) " +
                    "on conflict (tenant_id, id) do nothing",
                    tenantId,
                    located.Select(l => l.Id).ToArray(),
                    located.Select(l => target.Serializer.ToJson(l)).ToArray(),
                    located.Select(_ => Guid.NewGuid()).ToArray());
            }
        }
    }

    private sealed record Known<T>(T? Document, bool Changed) where T : class;
}
