using EventSourced.Domain.Common;

namespace EventSourced.Domain.Forwarding;

// Sending content on to another system (document e's "series/forward", both variants). A forward is a
// stream of its own: requested once, then one event per send attempt (delivered, or failed with the
// time of the next attempt, or failed for good: the dead-letter state an operator sees and retries).

/// <summary>What a forward sends: a DICOM series to a DICOMweb peer (STOW-RS), or the slides of a container to an HTTP endpoint.</summary>
public enum ForwardKind
{
    Series,
    NonDicomSlides,
}

/// <summary>One series a forward sends (the study is named so the study feed can show the forward).</summary>
public sealed record ForwardedSeries(string StudyInstanceUid, string SeriesInstanceUid);

/// <summary>
/// A forward was asked for. <paramref name="Key"/> is what the request named (the SeriesInstanceUID or the
/// container identifier); <paramref name="Series"/> what it resolved to when asked; <paramref name="Job"/>
/// and <paramref name="Destination"/> the configured job and where it sent to at the time.
/// </summary>
public sealed record ForwardRequested(
    Guid ForwardId,
    ForwardKind Kind,
    string Key,
    IReadOnlyList<ForwardedSeries> Series,
    string Job,
    string Destination,
    string Author,
    Actor RequestedBy,
    DateTimeOffset RequestedAt);

/// <summary>Attempt <paramref name="Attempt"/> delivered every instance (or slide file) of the forward.</summary>
public sealed record SeriesForwarded(
    Guid ForwardId,
    int Attempt,
    IReadOnlyList<ForwardedSeries> Series,
    int Files,
    long Bytes,
    Actor ForwardedBy,
    DateTimeOffset ForwardedAt);

/// <summary>
/// Attempt <paramref name="Attempt"/> failed. <paramref name="RetryAt"/>: when the next attempt is due; null
/// when this was the last one (the forward is dead-lettered until an operator retries it).
/// </summary>
public sealed record ForwardFailed(
    Guid ForwardId,
    int Attempt,
    IReadOnlyList<ForwardedSeries> Series,
    string Reason,
    DateTimeOffset? RetryAt,
    Actor FailedBy,
    DateTimeOffset FailedAt);

/// <summary>An operator sent a dead-lettered forward again; <paramref name="Attempt"/> is the attempt that follows.</summary>
public sealed record ForwardRetried(
    Guid ForwardId,
    int Attempt,
    IReadOnlyList<ForwardedSeries> Series,
    Actor RetriedBy,
    DateTimeOffset RetriedAt);
