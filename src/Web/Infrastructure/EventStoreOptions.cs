namespace EventSourced.Web.Infrastructure;

/// <summary>Configuration section <c>EventStore</c>; the connection string is <c>ConnectionStrings:EventStore</c>.</summary>
public sealed class EventStoreOptions
{
    public const string Section = "EventStore";

    /// <summary>PostgreSQL schema for documents, events and Wolverine's envelopes.</summary>
    public string Schema { get; set; } = "eventsourced";

    /// <summary>
    /// <c>Solo</c> for one node (default), <c>Balanced</c> for several nodes on one database: Marten's
    /// async daemon and Wolverine's durability agents then distribute work by advisory-lock leadership.
    /// </summary>
    public string NodeMode { get; set; } = "Solo";

    /// <summary>
    /// How PostgreSQL compresses the event log's <c>data</c>: <c>pglz</c> (default: fewer bytes per event row) or
    /// <c>lz4</c> (less PostgreSQL CPU per append, about 360 bytes more per stored instance). Set at start; rows
    /// already written keep theirs (docs/architecture.md, "STOW: the event log compressed with lz4").
    /// </summary>
    public string EventLogCompression { get; set; } = "pglz";

    /// <summary>
    /// Npgsql's automatic preparation (<c>Max Auto Prepare</c>): up to this many SQL statements per connection
    /// are prepared once they have run <see cref="AutoPrepareMinUsages"/> times, so PostgreSQL stops parsing and
    /// planning every upsert, append and load of the write path anew. 0 turns it off; a non-zero value in
    /// the connection string wins.
    /// </summary>
    public int MaxAutoPrepare { get; set; } = 64;

    /// <summary>How often a statement runs on a connection before it is prepared (Npgsql's <c>Auto Prepare Min Usages</c>).</summary>
    public int AutoPrepareMinUsages { get; set; } = 2;

    /// <summary>How often Wolverine looks for due scheduled messages (the metadata deadline's precision).</summary>
    public TimeSpan ScheduledJobPollingTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the async daemon looks for new events while busy (Marten's default: 250 ms).</summary>
    public TimeSpan DaemonFastPollingTime { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The least time between two of the async daemon's wake-ups by NOTIFY (<see cref="PacedDaemonWakeup"/>): under load
    /// one cycle takes the events of every commit in that time; a store after a quiet interval wakes it at once.
    /// </summary>
    public TimeSpan DaemonMinimumInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the async daemon looks for new events while idle (Marten's default: 1 s).</summary>
    public TimeSpan DaemonSlowPollingTime { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long the async daemon waits at a gap in the event sequence (numbers taken by a write that was rolled back: a
    /// refused or contended STOW, the start-up STOW warm-up) before it passes the gap; Marten passes none while a
    /// transaction that could still fill it is alive (Marten's default: 3 s).
    /// </summary>
    public TimeSpan DaemonStaleSequenceThreshold { get; set; } = TimeSpan.FromMilliseconds(500);
}
