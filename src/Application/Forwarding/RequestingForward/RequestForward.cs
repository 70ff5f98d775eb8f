using EventSourced.Domain.Common;
using EventSourced.Application.Forwarding.SendingForward;
using EventSourced.Domain.Forwarding;
using Marten;
using Wolverine;

namespace EventSourced.Application.Forwarding.RequestingForward;

/// <summary>Forward <paramref name="Series"/> (what <paramref name="Key"/> resolved to) with each of <paramref name="Destinations"/>.</summary>
public sealed record RequestForward(
    ForwardKind Kind, string Key, IReadOnlyList<ForwardedSeries> Series, IReadOnlyList<ForwardDestination> Destinations, string Author, Actor By);

/// <summary>The forwards started: one per job.</summary>
public sealed record ForwardsStarted(IReadOnlyList<Guid> ForwardIds);

public static class RequestForwardHandler
{
    /// <remarks>
    /// Each forward's stream and its first <see cref="SendForward"/> leave in one PostgreSQL transaction
    /// (Wolverine's Marten outbox): a forward is never recorded without its send, nor sent unrecorded.
    /// </remarks>
    public static (ForwardsStarted, OutgoingMessages) Handle(RequestForward command, IDocumentSession session, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var outgoing = new OutgoingMessages();
        var ids = new List<Guid>();
        foreach (var destination in command.Destinations)
        {
            var id = Guid.CreateVersion7();
            session.Events.StartStream<Forward>(id, new ForwardRequested(
                id, command.Kind, command.Key, command.Series, destination.Job, destination.Url, command.Author, command.By, now));
            outgoing.Add(new SendForward(id, 1));
            ids.Add(id);
        }

        return (new ForwardsStarted(ids), outgoing);
    }
}
