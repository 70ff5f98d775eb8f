using EventSourced.Domain.Common;

namespace EventSourced.Domain.Forwarding;

public enum ForwardState
{
    /// <summary>An attempt is queued or scheduled.</summary>
    Pending,

    Delivered,

    /// <summary>The last attempt failed: dead-lettered until an operator retries.</summary>
    Failed,
}

/// <summary>
/// One forward: what it sends where, and how far it got. Pure: the send itself is I/O done by the
/// sender; these functions decide which event an attempt's outcome becomes.
/// </summary>
public sealed record Forward
{
    public Guid Id { get; init; }
    public ForwardKind Kind { get; init; }
    public string Key { get; init; } = "";
    public IReadOnlyList<ForwardedSeries> Series { get; init; } = [];
    public string Job { get; init; } = "";
    public string Destination { get; init; } = "";
    public string Author { get; init; } = "";
    public ForwardState State { get; init; }

    /// <summary>Attempts made so far (the next one is <c>Attempts + 1</c>).</summary>
    public int Attempts { get; init; }

    public DateTimeOffset? NextAttemptAt { get; init; }
    public string? LastError { get; init; }
    public int Files { get; init; }
    public long Bytes { get; init; }
    public Actor RequestedBy { get; init; } = Actor.System("forwarding");
    public DateTimeOffset RequestedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    public static Forward Create(ForwardRequested requested) => new()
    {
        Id = requested.ForwardId,
        Kind = requested.Kind,
        Key = requested.Key,
        Series = requested.Series,
        Job = requested.Job,
        Destination = requested.Destination,
        Author = requested.Author,
        State = ForwardState.Pending,
        RequestedBy = requested.RequestedBy,
        RequestedAt = requested.RequestedAt,
        UpdatedAt = requested.RequestedAt,
        NextAttemptAt = requested.RequestedAt,
    };

    public Forward Apply(SeriesForwarded forwarded) => this with
    {
        State = ForwardState.Delivered,
        Attempts = forwarded.Attempt,
        NextAttemptAt = null,
        LastError = null,
        Files = forwarded.Files,
        Bytes = forwarded.Bytes,
        UpdatedAt = forwarded.ForwardedAt,
    };

    public Forward Apply(ForwardFailed failed) => this with
    {
        State = failed.RetryAt is null ? ForwardState.Failed : ForwardState.Pending,
        Attempts = failed.Attempt,
        NextAttemptAt = failed.RetryAt,
        LastError = failed.Reason,
        UpdatedAt = failed.FailedAt,
    };

    public Forward Apply(ForwardRetried retried) => this with
    {
        State = ForwardState.Pending,
        NextAttemptAt = retried.RetriedAt,
        UpdatedAt = retried.RetriedAt,
    };

    /// <summary>
    /// Whether attempt <paramref name="attempt"/> is the one due: a redelivered or stale message (the
    /// attempt was already made, the forward was delivered or dead-lettered) is a no-op.
    /// </summary>
    public bool Expects(int attempt) => State == ForwardState.Pending && attempt == Attempts + 1;

    public SeriesForwarded Delivered(int attempt, int files, long bytes, DateTimeOffset now) =>
        new(Id, attempt, Series, files, bytes, Actor.System("forwarding"), now);

    /// <summary>
    /// A failed attempt: retried after the attempt's back-off while attempts remain (<paramref name="delays"/>
    /// holds the wait after attempt 1, 2, …), dead-lettered after the last. Attempts after an operator's
    /// retry count on, and get one more try each time (the operator asked for it).
    /// </summary>
    public ForwardFailed Failure(int attempt, string reason, IReadOnlyList<TimeSpan> delays, DateTimeOffset now)
    {
        DateTimeOffset? retryAt = attempt <= delays.Count ? now + delays[attempt - 1] : null;
        return new(Id, attempt, Series, reason.Length > 2000 ? reason[..2000] : reason, retryAt, Actor.System("forwarding"), now);
    }

    /// <summary>An operator's retry: only a dead-lettered forward is sent again (null otherwise).</summary>
    public ForwardRetried? Retry(Actor by, DateTimeOffset now) =>
        State == ForwardState.Failed ? new(Id, Attempts + 1, Series, by, now) : null;
}
