using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace EventSourced.Application.Archive.DeletingContent;

/// <summary>
/// Document d's delete calls: the studies <see cref="StudyInstanceUids"/> (a patient's: all of them in the
/// archive; a study or a series: that one) as filed in a Project/Archive under a PatientID, whole
/// (<see cref="ArchiveSeriesUid"/> null) or one document d series of each.
/// </summary>
public sealed record DeleteArchiveContent(
    ArchivePlacement Placement, string PatientId, IReadOnlyList<string> StudyInstanceUids, string? ArchiveSeriesUid, string Reason, Actor By);

/// <summary>How many studies the delete touched, or why it was refused.</summary>
public sealed record DeletionOutcome(int Studies, DeletionRefusal? Refused);

/// <summary>The end of a delete's restore window: purge it (a no-op when it was restored meanwhile).</summary>
public sealed record PurgeDeletedContent(Guid StudyStreamId, Guid DeletionId);

public static class DeleteArchiveContentHandler
{
    /// <remarks>
    /// Each study's stream row is locked for its decision (as storing does), so a delete and a store of
    /// the same study are serialized: the store either lands before (and is deleted) or after (and stays).
    /// A patient's studies are deleted in one transaction: all of them, or none when one is refused. The
    /// purge goes through the durable outbox in the same transaction, scheduled at the end of the window.
    /// </remarks>
    public static async Task<(DeletionOutcome, OutgoingMessages)> Handle(
        DeleteArchiveContent command, IDocumentSession session, IOptions<DeletionOptions> options, TimeProvider clock, CancellationToken cancellation)
    {
        var messages = new OutgoingMessages();
        var now = clock.GetUtcNow();
        var deleted = 0;
        foreach (var studyUid in command.StudyInstanceUids.Distinct().Order(StringComparer.Ordinal))
        {
            var streamId = Study.StreamId(session.TenantId, studyUid);
            var stream = await session.Events.FetchForExclusiveWriting<Study>(streamId, cancellation);
            if (stream.Aggregate is not { } study
                || !study.Archives.TryGetValue(command.Placement.Key, out var filing)
                || (study.AssignedPatient?.PatientId ?? filing.PatientId) != command.PatientId)
            {
                continue; // not filed there, or its patient is another now (merged, moved): nothing of it to delete
            }

            var history = await Studies.StudyHistory.LoadAsync(session, streamId, cancellation);
            var decision = StudyDeletions.Delete(stream.Aggregate, Guid.CreateVersion7(), command.Placement, command.ArchiveSeriesUid,
                history.Filings, command.Reason, options.Value.RestoreWindow, command.By, now);
            if (decision.Refused is DeletionRefusal.DeprecationPending)
            {
                session.EjectAllPendingChanges();
                return (new DeletionOutcome(0, decision.Refused), new OutgoingMessages());
            }

            if (decision.Event is not { } appended)
            {
                continue;
            }

            stream.AppendOne(appended);
            deleted++;
            var purge = new PurgeDeletedContent(streamId, appended.DeletionId);
            messages.Add(appended.PurgeAt > now ? purge.ScheduledAt(appended.PurgeAt) : purge);
        }

        return deleted == 0
            ? (new DeletionOutcome(0, DeletionRefusal.NotFound), new OutgoingMessages())
            : (new DeletionOutcome(deleted, null), messages);
    }
}

public static class PurgeDeletedContentHandler
{
    private static readonly Actor By = Actor.System("deletion");

    /// <summary>
    /// Releases the blobs of the delete's removed instances: every SHA-256 the stream's events gave them
    /// (a replaced instance's earlier bytes too), except bytes the study holds now.
    /// </summary>
    public static async Task Handle(PurgeDeletedContent command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var stream = await session.Events.FetchForExclusiveWriting<Study>(command.StudyStreamId, cancellation);
        if (stream.Aggregate?.Deletions.FirstOrDefault(d => d.Id == command.DeletionId) is not { Restored: false, Purged: false })
        {
            return;
        }

        var blobsOf = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        foreach (var data in (await session.Events.FetchStreamAsync(command.StudyStreamId, token: cancellation)).Select(e => e.Data))
        {
            foreach (var instance in StoredBy(data))
            {
                var set = (HashSet<string>)(blobsOf.TryGetValue(instance.SopInstanceUid, out var existing)
                    ? existing
                    : blobsOf[instance.SopInstanceUid] = new HashSet<string>(StringComparer.Ordinal));
                set.Add(instance.Blob.Sha256);
            }
        }

        if (StudyDeletions.Purge(stream.Aggregate, command.DeletionId, blobsOf, By, clock.GetUtcNow()) is { } purged)
        {
            stream.AppendOne(purged);
        }
    }

    /// <summary>The instances (with their bytes) an event of the study stream names.</summary>
    private static IEnumerable<StoredInstance> StoredBy(object data) => data switch
    {
        InstanceStored e => [e.Instance],
        InstancesStored e => e.Instances,
        InstanceReplaced e => [e.Instance],
        InstanceErased e => [e.Instance],
        StudyDeprecationRevoked e => e.Restored.Select(r => r.Instance),
        DeletedContentRestored e => e.Restored.Select(r => r.Instance),
        SeriesRefiledIn e => e.Arrived.Select(a => a.Instance),
        _ => [],
    };
}
