using EventSourced.Application.Common;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten;
using Microsoft.Extensions.Options;

namespace EventSourced.Application.Ingestion.StoringInstances;

/// <summary>Record an instance whose blob is already durable (the caller committed it first: no event ever points at a missing file).</summary>
public sealed record StoreInstance(StoredInstance Instance, Actor By);

public sealed record InstanceStoreResponse(StoreOutcome Outcome, string StudyInstanceUid, string SopInstanceUid);

public static class StoreInstanceHandler
{
    /// <remarks>
    /// Many instances of one study arrive in parallel (a modality sends a series on several
    /// associations, STOW clients upload in parallel). Optimistic concurrency would make them retry
    /// each other on every append; instead the study's stream row is locked for the short decide-and-
    /// append (<c>FetchForExclusiveWriting</c>), so writers of one study queue and none is refused.
    /// Two first writers of a new study race on creating the stream; the loser is retried by the
    /// Wolverine policy on <c>ExistingStreamIdCollisionException</c> and then finds it.
    /// </remarks>
    public static async Task<CommandResult<InstanceStoreResponse>> Handle(
        StoreInstance command,
        IDocumentSession session,
        IOptions<IngestionOptions> options,
        TimeProvider clock,
        CancellationToken cancellation)
    {
        var instance = command.Instance;
        var streamId = Study.StreamId(session.TenantId, instance.StudyInstanceUid);
        var stream = await session.Events.FetchForExclusiveWriting<Study>(streamId, cancellation);

        var decision = StudyDecisions.Store(stream.Aggregate, streamId, instance, options.Value.ReplaceWindow, command.By, clock.GetUtcNow());
        if (decision.Rejection is { } rejection)
        {
            return CommandResult<InstanceStoreResponse>.Reject(rejection);
        }

        if (decision.Event is { } e)
        {
            stream.AppendOne(e);
        }

        return CommandResult<InstanceStoreResponse>.Ok(new InstanceStoreResponse(decision.Outcome, instance.StudyInstanceUid, instance.SopInstanceUid));
    }
}
