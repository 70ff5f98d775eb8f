using EventSourced.Web.Infrastructure;
using JasperFx.Events.Daemon.HighWater;
using Microsoft.Extensions.Time.Testing;

namespace EventSourced.Web.Tests.Hosting;

/// <summary>
/// The async daemon's wake-ups by NOTIFY, at most one per interval: a notification after a quiet interval wakes it at
/// once, one sooner is held until the interval has passed, and without one the daemon's own polling interval holds.
/// </summary>
public sealed class PacedDaemonWakeupTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Polling = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task A_notification_after_a_quiet_interval_wakes_the_daemon_at_once()
    {
        var (clock, notifications, wakeup) = await WokenOnceAsync();
        using var _ = wakeup;

        clock.Advance(Interval * 2);
        var second = wakeup.WaitAsync(Polling, CancellationToken.None);
        notifications.Notify();

        await second.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_notification_sooner_than_the_interval_is_held_until_the_interval_has_passed()
    {
        var (clock, notifications, wakeup) = await WokenOnceAsync();
        using var _ = wakeup;

        clock.Advance(TimeSpan.FromMilliseconds(10));
        var second = wakeup.WaitAsync(Polling, CancellationToken.None);
        notifications.Notify();
        await notifications.Returned.WaitAsync(TimeSpan.FromSeconds(5));
        await Task.Delay(50);
        Assert.False(second.IsCompleted, "woken 10 ms after the last wake-up, 40 ms before the interval's end");

        clock.Advance(TimeSpan.FromMilliseconds(39));
        await Task.Delay(50);
        Assert.False(second.IsCompleted, "1 ms before the interval's end");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await second.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Without_a_notification_the_daemon_wakes_at_its_polling_interval_and_no_later()
    {
        var (clock, notifications, wakeup) = await WokenOnceAsync();
        using var _ = wakeup;

        var next = wakeup.WaitAsync(Polling, CancellationToken.None);
        clock.Advance(Polling - TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        Assert.False(next.IsCompleted);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await next.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(notifications.TimedOut);
    }

    [Fact]
    public void Disposing_it_disposes_the_wakeup_it_paces()
    {
        var notifications = new Notifications(new FakeTimeProvider());

        new PacedDaemonWakeup(notifications, Interval, TimeProvider.System).Dispose();

        Assert.True(notifications.Disposed);
    }

    /// <summary>A paced wake-up on a test clock, woken once by a notification (its interval starts then).</summary>
    private static async Task<(FakeTimeProvider Clock, Notifications Notifications, PacedDaemonWakeup Wakeup)> WokenOnceAsync()
    {
        var clock = new FakeTimeProvider();
        var notifications = new Notifications(clock);
        var wakeup = new PacedDaemonWakeup(notifications, Interval, clock);
        notifications.Notify();
        await wakeup.WaitAsync(Polling, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        return (clock, notifications, wakeup);
    }

    /// <summary>A LISTEN stand-in on the test's clock: a wait ends at a notification or at its timeout.</summary>
    private sealed class Notifications(FakeTimeProvider clock) : IDaemonWakeup
    {
        private TaskCompletionSource pending = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource returned = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Disposed { get; private set; }

        public bool TimedOut { get; private set; }

        /// <summary>Completes when a wait has returned since the last <see cref="Notify"/>.</summary>
        public Task Returned => returned.Task;

        public void Notify()
        {
            returned = new(TaskCreationOptions.RunContinuationsAsynchronously);
            pending.TrySetResult();
        }

        public async Task WaitAsync(TimeSpan timeout, CancellationToken token)
        {
            var signal = pending.Task;
            var timer = Task.Delay(timeout, clock, token);
            TimedOut = await Task.WhenAny(signal, timer) == timer;
            pending = new(TaskCreationOptions.RunContinuationsAsynchronously);
            returned.TrySetResult();
        }

        public void Dispose() => Disposed = true;
    }
}
