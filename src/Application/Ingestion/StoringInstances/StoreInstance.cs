using EventSourced.Application.Orders.RecordingImages;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace EventSourced.Application.Ingestion.StoringInstances;

/// <summary>
/// Record instances of one study whose blobs are already durable (the caller committed them first: no
/// event ever points at a missing file). One command per study and request: one lock, one commit.
/// </summary>
public sealed record StoreInstances(IReadOnlyList<StoredInstance> Instances, Actor By);

public sealed record InstanceStoreResult(string SopInstanceUid, StoreOutcome Outcome, Rejection? Rejection);

public sealed record StoreInstancesResponse(string StudyInstanceUid, IReadOnlyList<InstanceStoreResult> Results);

public static class StoreInstancesHandler
{
    /// <remarks>
    /// Many instances of one study arrive in parallel (a modality sends a series on several
    /// associations, STOW clients upload in parallel). Optimistic concurrency would make them retry
    /// each other on every append; instead the study's stream row is locked for the short decide-and-
    /// append (<c>FetchForExclusiveWriting</c>), so writers of one study queue and none is refused.
    /// Two first writers of a new study race on creating the stream; the loser is retried by the
    /// Wolverine policy on <c>ExistingStreamIdCollisionException</c> and then finds it.
    /// </remarks>
    public static async Task<(StoreInstancesResponse, OutgoingMessages)> Handle(
        StoreInstances command,
        IDocumentSession session,
        IOptions<IngestionOptions> options,
        TimeProvider clock,
        CancellationToken cancellation)
    {
        var studyUid = command.Instances[0].StudyInstanceUid;
        if (command.Instances.Any(i => i.StudyInstanceUid != studyUid))
        {
            throw new ArgumentException("A StoreInstances command carries instances of one study.", nameof(command));
        }

        var streamId = Study.StreamId(session.TenantId, studyUid);
        var stream = await session.Events.FetchForExclusiveWriting<Study>(streamId, cancellation);
        var study = stream.Aggregate;
        var now = clock.GetUtcNow();
        var results = new List<InstanceStoreResult>(command.Instances.Count);
        foreach (var instance in command.Instances)
        {
            var decision = StudyDecisions.Store(study, streamId, instance, options.Value.ReplaceWindow, command.By, now);
            switch (decision.Event)
            {
                case InstanceStored stored:
                    stream.AppendOne(stored);
                    study = study is null ? Study.Create(stored) : study.Apply(stored);
                    break;
                case InstanceReplaced replaced:
                    stream.AppendOne(replaced);
                    study = study!.Apply(replaced);
                    break;
            }

            results.Add(new InstanceStoreResult(instance.SopInstanceUid, decision.Outcome, decision.Rejection));
        }

        // Cascaded through the outbox, committed with the events: the study's order moves on (Orders/RecordingImages).
        var messages = new OutgoingMessages();
        if (InstancesArrivedForStudy.From(command, results, now) is { } arrived)
        {
            messages.Add(arrived);
        }

        return (new StoreInstancesResponse(studyUid, results), messages);
    }
}
