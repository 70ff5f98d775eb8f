using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace EventSourced.Application.Studies.DeprecatingContent;

/// <summary>Deprecate a whole study (<see cref="SeriesInstanceUid"/> null) or one of its series (document e's deprecation APIs).</summary>
public sealed record DeprecateStudyContent(string StudyInstanceUid, string? SeriesInstanceUid, string Author, string Reason, Actor By);

/// <summary>Started: the deprecation is pending, its work runs as <see cref="CompleteStudyDeprecation"/>. Or refused, and why.</summary>
public sealed record DeprecationStart(Guid? DeprecationId, DeprecationRefusal? Refused);

public static class DeprecateStudyContentHandler
{
    /// <remarks>
    /// The study's stream row is locked for the decision (as storing does), so of concurrent deprecations
    /// exactly one starts and the others find it pending. The work step goes through the durable outbox in
    /// the same transaction: a crash after the commit still completes the deprecation on restart.
    /// </remarks>
    public static async Task<(DeprecationStart, OutgoingMessages)> Handle(
        DeprecateStudyContent command, IDocumentSession session, IOptions<StudyLifecycleOptions> options, TimeProvider clock, CancellationToken cancellation)
    {
        var streamId = Study.StreamId(session.TenantId, command.StudyInstanceUid);
        var stream = await session.Events.FetchForExclusiveWriting<Study>(streamId, cancellation);
        var decision = StudyDeprecations.Start(
            stream.Aggregate, Guid.CreateVersion7(), command.SeriesInstanceUid, command.Author, command.Reason, command.By, clock.GetUtcNow());
        var messages = new OutgoingMessages();
        if (decision.Event is not { } started)
        {
            return (new DeprecationStart(null, decision.Refused), messages);
        }

        stream.AppendOne(started);
        var work = new CompleteStudyDeprecation(streamId, started.DeprecationId);
        if (options.Value.DeprecationDelay > TimeSpan.Zero)
        {
            messages.Add(work.DelayedFor(options.Value.DeprecationDelay));
        }
        else
        {
            messages.Add(work);
        }

        return (new DeprecationStart(started.DeprecationId, null), messages);
    }
}
