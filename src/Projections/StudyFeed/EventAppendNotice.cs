using Marten;
using Marten.Events.Daemon.HighWater;
using Marten.Services;

namespace EventSourced.Projections.StudyFeed;

/// <summary>
/// A NOTIFY on Marten's channel for the async daemon (<c>mt_events_appended</c>) in every transaction that appends
/// events, delivered by PostgreSQL when it commits, to whichever node runs the daemon: what Marten's
/// <c>UseListenNotifyForEventAppends</c> queues, without that option, because the option also gives the daemon a
/// wake-up of Marten's own that replaces the service's (the wake-up paced to at most one cycle per interval;
/// docs/architecture.md, "The study feed").
/// </summary>
public sealed class EventAppendNotice : DocumentSessionListenerBase
{
    /// <summary>
    /// On the channel Marten's LISTEN wake-up waits on; a statement without a result set, so the batch's other
    /// statements read their own results in order.
    /// </summary>
    private const string Notify = $"NOTIFY {PostgresqlListenWakeup.DefaultChannel}";

    public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
    {
        if (session.PendingChanges.Streams().Any())
        {
            session.QueueSqlCommand(Notify);
        }

        return Task.CompletedTask;
    }
}
