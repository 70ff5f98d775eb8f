using JasperFx.Events.Daemon.HighWater;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// The async daemon's wake-up (Marten's LISTEN on the events' NOTIFY, <paramref name="inner"/>), at most once per
/// <paramref name="minimumInterval"/>. Each commit of events NOTIFYs the daemon; woken by every one, the daemon ran a
/// whole cycle per STOW request (the high-water mark read and its fence, each shard's event page, its projection
/// batch and its progress: about five pooled connections and forty statements) when a few requests' events could go
/// in one. A notification that comes sooner than the interval after the last wake-up is held until the interval has
/// passed, so under load a cycle takes the events of every commit in that time; a notification after a quiet
/// interval wakes the daemon at once, so a lone store reaches the study feed as soon as before. Without a
/// notification the daemon still wakes at its polling interval. docs/architecture.md, "The study feed"; measured:
/// docs/benchmarks.md, "The study feed's daemon: one cycle per commit".
/// </summary>
public sealed class PacedDaemonWakeup(IDaemonWakeup inner, TimeSpan minimumInterval, TimeProvider clock) : IDaemonWakeup
{
    private long lastWoken;

    public async Task WaitAsync(TimeSpan timeout, CancellationToken token)
    {
        await inner.WaitAsync(timeout, token).ConfigureAwait(false);
        if (lastWoken != 0 && clock.GetElapsedTime(lastWoken) is var since && since < minimumInterval)
        {
            await Task.Delay(minimumInterval - since, clock, token).ConfigureAwait(false);
        }

        lastWoken = clock.GetTimestamp();
    }

    public void Dispose() => inner.Dispose();
}
