using EventSourced.Domain.Access;
using EventSourced.Domain.Common;
using Wolverine;
using Marten;

namespace EventSourced.Application.Callbacks;

/// <summary>Record a PACS's new-exam callback (document c) and forward it to each configured endpoint.</summary>
public sealed record ReceiveNewExamCallback(NewExamNotification Notification, IReadOnlyList<string> ForwardTo, Actor By);

/// <summary>One delivery of one received callback to one endpoint; durable, retried, dead-lettered after the last attempt.</summary>
/// <param name="TenantId">The tenant the callback was received for (also on the envelope; kept in the message so a dead letter names it).</param>
public sealed record ForwardNewExamCallback(Guid CallbackId, string TenantId, string Url, NewExamNotification Notification, DateTimeOffset ReceivedAt);

public static class ReceiveNewExamCallbackHandler
{
    /// <remarks>
    /// The event and the forwarding messages leave in one PostgreSQL transaction (Wolverine's Marten outbox):
    /// a callback is never recorded without its deliveries, nor delivered without being recorded.
    /// </remarks>
    public static (Guid, OutgoingMessages) Handle(ReceiveNewExamCallback command, IDocumentSession session, TimeProvider clock)
    {
        var id = Guid.CreateVersion7();
        return (id, Record(session, id, command.Notification, command.ForwardTo, command.By, clock.GetUtcNow()));
    }

    /// <summary>
    /// The callback's stream and its deliveries: the one path every image availability message takes
    /// (a PACS's callback, and the one a reconcile sends for its target study).
    /// </summary>
    public static OutgoingMessages Record(IDocumentSession session, Guid id, NewExamNotification notification, IReadOnlyList<string> forwardTo, Actor by, DateTimeOffset now)
    {
        var received = new NewExamCallbackReceived(id, notification, forwardTo, by, now);
        var outgoing = new OutgoingMessages();
        outgoing.AddRange(forwardTo.Select(url => new ForwardNewExamCallback(id, session.TenantId, url, notification, now)));
        session.Events.StartStream(id, received);
        return outgoing;
    }
}
