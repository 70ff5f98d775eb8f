using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Application.Archive.DeletingContent;

/// <summary>Undo the latest delete of a study from an archive still within its restore window (our own route).</summary>
public sealed record RestoreDeletedContent(Domain.Archive.ArchivePlacement Placement, string StudyInstanceUid, string Reason, Actor By);

public sealed record DeletionRestoreOutcome(Guid? DeletionId, int Restored, int Refiled, DeletionRefusal? Refused);

public static class RestoreDeletedContentHandler
{
    public static async Task<DeletionRestoreOutcome> Handle(
        RestoreDeletedContent command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var streamId = Study.StreamId(session.TenantId, command.StudyInstanceUid);
        var stream = await session.Events.FetchForExclusiveWriting<Study>(streamId, cancellation);
        var now = clock.GetUtcNow();
        if (StudyDeletions.Restorable(stream.Aggregate, command.Placement, now) is null)
        {
            return new(null, 0, 0, DeletionRefusal.NothingToRestore);
        }

        var history = await Studies.StudyHistory.LoadAsync(session, streamId, cancellation);
        var decision = StudyDeletions.Restore(stream.Aggregate, command.Placement, history.LastStored, history.Filings, command.Reason, command.By, now);
        if (decision.Event is not { } restored)
        {
            return new(null, 0, 0, decision.Refused);
        }

        stream.AppendOne(restored);
        return new(restored.DeletionId, restored.Restored.Count, restored.Refiled.Count, null);
    }
}
