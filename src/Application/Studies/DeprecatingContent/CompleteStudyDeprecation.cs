using EventSourced.Application.Ingestion;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Application.Studies.KeyObjects;
using EventSourced.Dicom;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten;
using Microsoft.Extensions.Options;

namespace EventSourced.Application.Studies.DeprecatingContent;

/// <summary>The work step of a pending deprecation: store the rejection note, then hide the deprecated content.</summary>
public sealed record CompleteStudyDeprecation(Guid StudyStreamId, Guid DeprecationId);

public static class CompleteStudyDeprecationHandler
{
    private static readonly Actor By = Actor.System("deprecation");

    /// <remarks>
    /// The rejection KOS (IHE IOCM: title "Rejected for Quality Reasons", every deprecated instance
    /// referenced) has a SOP Instance UID and content derived from the deprecation alone, so a redelivery
    /// after a crash builds the same bytes: the blob commit is idempotent and the store is "already
    /// stored". The KOS's InstanceStored and the completion are appended in one transaction.
    /// </remarks>
    public static async Task Handle(
        CompleteStudyDeprecation command,
        IDocumentSession session,
        InstanceReceiver receiver,
        IOptions<IngestionOptions> options,
        TimeProvider clock,
        CancellationToken cancellation)
    {
        var stream = await session.Events.FetchForExclusiveWriting<Study>(command.StudyStreamId, cancellation);
        if (stream.Aggregate is not { PendingDeprecation: { } pending } study || pending.Id != command.DeprecationId)
        {
            return; // already completed (a redelivery), or unknown
        }

        var history = await StudyHistory.LoadAsync(session, command.StudyStreamId, cancellation);
        var scope = StudyDeprecations.InScope(study, pending.SeriesInstanceUid)
            .Where(i => history.LastStored.ContainsKey(i.Key))
            .Select(i => history.LastStored[i.Key].Instance)
            .ToList();
        var kosUid = DicomUid.FromGuid(DeterministicGuid.Create(pending.Id, "rejection-kos"));
        var bytes = KeyObjectSelection.Build(new KeyObjectRequest(
            KeyObjectStudy.FromHeader(study.StudyInstanceUid, scope[^1].Header),
            [.. scope.Select(KeyObjectReferences.Of)],
            KeyObjectTitle.RejectedForQualityReasons,
            kosUid,
            DicomUid.FromGuid(DeterministicGuid.Create(pending.Id, "rejection-kos-series")),
            pending.StartedAt)
        {
            SeriesDescription = "Rejected for Quality Reasons",
        });

        var (kos, failure) = await receiver.ReceiveAsync(new MemoryStream(bytes), study.StudyInstanceUid, IngestChannel.Generated, null, cancellation);
        if (kos is null)
        {
            throw new InvalidOperationException($"The rejection note of deprecation {pending.Id} was refused: {failure?.Detail}");
        }

        var now = clock.GetUtcNow();
        var store = StudyDecisions.Store(study, study.Id, kos, options.Value.ReplaceWindow, By, now);
        if (store.Event is InstanceStored stored)
        {
            stream.AppendOne(stored);
            study = study.Apply(stored);
        }

        if (StudyDeprecations.Complete(study, pending.Id, kosUid, history.Filings, now) is { } completed)
        {
            stream.AppendOne(completed);
        }
    }
}
