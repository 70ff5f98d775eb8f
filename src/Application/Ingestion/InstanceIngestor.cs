using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Application.Ingestion.StoringInstances;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Wolverine;

namespace EventSourced.Application.Ingestion;

/// <summary>What became of one uploaded instance: stored (or already stored, or replaced), or refused and why.</summary>
public sealed record IngestOutcome(StoredInstance? Instance, StoreOutcome? Stored, ReceiveFailure? Failure);

/// <summary>
/// The one ingestion path every upload channel uses (STOW-RS, document c's exams upload, document d's
/// instance upload, document b's presigned PUT): receive each instance's bytes into a durable blob while
/// parsing its header, then record the received instances on their studies' streams for the caller's
/// tenant, one transaction per study.
/// </summary>
public sealed class InstanceIngestor(InstanceReceiver receiver, IMessageBus bus)
{
    private static readonly TimeSpan InvokeTimeout = TimeSpan.FromSeconds(60);

    public Task<(StoredInstance? Instance, ReceiveFailure? Failure)> ReceiveAsync(
        Stream content, string? expectedStudyUid, IngestChannel channel, string? callingAeTitle, CancellationToken cancellation) =>
        receiver.ReceiveAsync(content, expectedStudyUid, channel, callingAeTitle, cancellation);

    /// <summary>Receives one instance without committing its blob (see <see cref="InstanceReceiver.ReceivePendingAsync"/>).</summary>
    public Task<(PendingInstance? Pending, ReceiveFailure? Failure)> ReceivePendingAsync(
        Stream content, string? expectedStudyUid, IngestChannel channel, string? callingAeTitle, CancellationToken cancellation) =>
        receiver.ReceivePendingAsync(content, expectedStudyUid, channel, callingAeTitle, cancellation);

    /// <summary>Commits received instances' blobs together (see <see cref="InstanceReceiver.CommitAsync"/>).</summary>
    public Task<IReadOnlyList<(StoredInstance? Instance, IOException? Failure)>> CommitAsync(IReadOnlyList<PendingInstance> pending, CancellationToken cancellation) =>
        receiver.CommitAsync(pending, cancellation);

    /// <summary>Records received instances, grouped by study; the outcomes come back in the order given.</summary>
    public async Task<IReadOnlyList<IngestOutcome>> StoreAsync(
        IReadOnlyList<StoredInstance> instances, string tenantId, Actor by, CancellationToken cancellation,
        Domain.Archive.ArchivePlacement? placement = null, StoredSlide? slide = null)
    {
        var outcomes = new Dictionary<StoredInstance, IngestOutcome>(ReferenceEqualityComparer.Instance);
        foreach (var study in instances.GroupBy(i => i.StudyInstanceUid))
        {
            var batch = study.ToList();
            var response = await bus.InvokeForTenantAsync<StoreInstancesResponse>(
                tenantId, new StoreInstances(batch, by) { Placement = placement, Slide = slide }, cancellation, InvokeTimeout);
            for (var i = 0; i < batch.Count; i++)
            {
                var result = response.Results[i];
                outcomes[batch[i]] = result.Rejection is { } rejected
                    ? new IngestOutcome(batch[i], null, new ReceiveFailure(ReceiveFailure.DuplicateSopInstance, rejected.Detail, batch[i].SopClassUid, batch[i].SopInstanceUid))
                    : new IngestOutcome(batch[i], result.Outcome, null);
            }
        }

        return [.. instances.Select(i => outcomes[i])];
    }

    /// <summary>One instance: receive, then store.</summary>
    public async Task<IngestOutcome> IngestAsync(
        Stream content, string? expectedStudyUid, IngestChannel channel, string? callingAeTitle,
        string tenantId, Actor by, CancellationToken cancellation)
    {
        var (instance, failure) = await ReceiveAsync(content, expectedStudyUid, channel, callingAeTitle, cancellation);
        return instance is null
            ? new IngestOutcome(null, null, failure)
            : (await StoreAsync([instance], tenantId, by, cancellation))[0];
    }
}
