using EventSourced.Application.Common;
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
/// instance upload, document b's presigned PUT): receive the bytes into a durable blob while parsing the
/// header, then record the instance on its study's stream for the caller's tenant.
/// </summary>
public sealed class InstanceIngestor(InstanceReceiver receiver, IMessageBus bus)
{
    private static readonly TimeSpan InvokeTimeout = TimeSpan.FromSeconds(60);

    public async Task<IngestOutcome> IngestAsync(
        Stream content, string? expectedStudyUid, IngestChannel channel, string? callingAeTitle,
        string tenantId, Actor by, CancellationToken cancellation)
    {
        var (instance, failure) = await receiver.ReceiveAsync(content, expectedStudyUid, channel, callingAeTitle, cancellation);
        if (instance is null)
        {
            return new IngestOutcome(null, null, failure);
        }

        var result = await bus.InvokeForTenantAsync<CommandResult<InstanceStoreResponse>>(
            tenantId, new StoreInstance(instance, by), cancellation, InvokeTimeout);
        return result.Rejected is { } rejected
            ? new IngestOutcome(instance, null, new ReceiveFailure(ReceiveFailure.DuplicateSopInstance, rejected.Detail, instance.SopClassUid, instance.SopInstanceUid))
            : new IngestOutcome(instance, result.Value!.Outcome, null);
    }
}
