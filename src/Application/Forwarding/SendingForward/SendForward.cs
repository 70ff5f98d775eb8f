using EventSourced.Domain.Forwarding;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace EventSourced.Application.Forwarding.SendingForward;

/// <summary>Make attempt <paramref name="Attempt"/> of a forward; a no-op when that attempt is not the one due.</summary>
public sealed record SendForward(Guid ForwardId, int Attempt);

/// <summary>What one successful attempt sent.</summary>
public sealed record ForwardDelivery(int Files, long Bytes);

/// <summary>An attempt the destination did not accept (unreachable, timed out, not 2xx, refused instances), or content that cannot be sent.</summary>
public sealed class ForwardSendException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The I/O of an attempt (reading the instances, the HTTP requests), implemented by the host.</summary>
public interface IForwardSender
{
    /// <exception cref="ForwardSendException">The attempt failed.</exception>
    Task<ForwardDelivery> SendAsync(Forward forward, string tenantId, CancellationToken cancellation);
}

public static class SendForwardHandler
{
    /// <remarks>
    /// The outcome is an event and, after a failure with attempts left, the next attempt as a durable
    /// scheduled message, committed together: a crash before the commit leaves this message in the
    /// inbox, so the attempt is made again (at least once; a STOW-RS of the same instances is idempotent
    /// at the peer). A stale or redelivered message finds the attempt already recorded and does nothing.
    /// </remarks>
    public static async Task<OutgoingMessages> Handle(
        SendForward message, IDocumentSession session, IForwardSender sender, IOptions<ForwardingOptions> options, TimeProvider clock, CancellationToken cancellation)
    {
        var outgoing = new OutgoingMessages();
        var stream = await session.Events.FetchForWriting<Forward>(message.ForwardId, cancellation);
        if (stream.Aggregate is not { } forward || !forward.Expects(message.Attempt))
        {
            return outgoing;
        }

        try
        {
            var delivery = await sender.SendAsync(forward, session.TenantId, cancellation);
            stream.AppendOne(forward.Delivered(message.Attempt, delivery.Files, delivery.Bytes, clock.GetUtcNow()));
        }
        catch (ForwardSendException e)
        {
            var failed = forward.Failure(message.Attempt, e.Message, options.Value.RetryDelays(), clock.GetUtcNow());
            stream.AppendOne(failed);
            if (failed.RetryAt is { } at)
            {
                outgoing.Add(new SendForward(forward.Id, message.Attempt + 1).ScheduledAt(at));
            }
        }

        return outgoing;
    }
}
