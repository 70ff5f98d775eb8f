using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Application.Studies.DeprecatingContent;

/// <summary>Undo the latest completed deprecation of a study (<see cref="SeriesInstanceUid"/> null) or of one of its series (our own route).</summary>
public sealed record RestoreStudyContent(string StudyInstanceUid, string? SeriesInstanceUid, string Author, string Reason, Actor By);

public sealed record RestoreOutcome(Guid? DeprecationId, int Restored, DeprecationRefusal? Refused);

public static class RestoreStudyContentHandler
{
    public static async Task<RestoreOutcome> Handle(
        RestoreStudyContent command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var streamId = Study.StreamId(session.TenantId, command.StudyInstanceUid);
        var stream = await session.Events.FetchForExclusiveWriting<Study>(streamId, cancellation);
        if (StudyDeprecations.Restorable(stream.Aggregate, command.SeriesInstanceUid) is null || stream.Aggregate!.PendingDeprecation is not null)
        {
            var refused = StudyDeprecations.Revoke(stream.Aggregate, command.SeriesInstanceUid, new Dictionary<string, InstanceStored>(), [],
                command.Author, command.Reason, command.By, clock.GetUtcNow());
            return new RestoreOutcome(null, 0, refused.Refused);
        }

        var history = await StudyHistory.LoadAsync(session, streamId, cancellation);
        var decision = StudyDeprecations.Revoke(stream.Aggregate, command.SeriesInstanceUid, history.LastStored, history.Filings,
            command.Author, command.Reason, command.By, clock.GetUtcNow());
        if (decision.Event is not { } revoked)
        {
            return new RestoreOutcome(null, 0, decision.Refused);
        }

        stream.AppendOne(revoked);
        return new RestoreOutcome(revoked.DeprecationId, revoked.Restored.Count, null);
    }
}
