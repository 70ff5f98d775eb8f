using EventSourced.Domain.Common;
using EventSourced.Application.Forwarding.SendingForward;
using EventSourced.Domain.Forwarding;
using Marten;
using Wolverine;

namespace EventSourced.Application.Forwarding.RetryingForward;

/// <summary>An operator sends a dead-lettered forward again.</summary>
public sealed record RetryForward(Guid ForwardId, Actor By);

public enum RetryOutcome
{
    Retried,
    NotFound,

    /// <summary>The forward is pending or delivered: only a dead-lettered one is retried.</summary>
    NotFailed,
}

public static class RetryForwardHandler
{
    public static async Task<(RetryOutcome, OutgoingMessages)> Handle(RetryForward command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var outgoing = new OutgoingMessages();
        var stream = await session.Events.FetchForWriting<Forward>(command.ForwardId, cancellation);
        if (stream.Aggregate is not { } forward)
        {
            return (RetryOutcome.NotFound, outgoing);
        }

        if (forward.Retry(command.By, clock.GetUtcNow()) is not { } retried)
        {
            return (RetryOutcome.NotFailed, outgoing);
        }

        stream.AppendOne(retried);
        outgoing.Add(new SendForward(forward.Id, retried.Attempt));
        return (RetryOutcome.Retried, outgoing);
    }
}
