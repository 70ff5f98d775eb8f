using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Studies;

// The visibility of a study's content (document e's deprecation, our restore). Deprecation is a process:
// started (pending; a second one is refused), worked (the rejection KOS built and stored), completed
// (the instances leave every read model). Nothing leaves the log: the stored events stay, and a restore
// appends what the read models need to show the instances again.

/// <summary>
/// One instance leaving the read models. A child of <see cref="StudyDeprecationCompleted"/> and
/// <see cref="StudyDeprecationRevoked"/>, fanned out by the per-instance projections.
/// </summary>
public sealed record InstanceHidden(Guid StudyStreamId, string SeriesInstanceUid, string SopInstanceUid);

/// <summary>
/// One archive filing (document d) leaving the archive read models; a child like <see cref="InstanceHidden"/>.
/// <paramref name="EmptiesArchiveStudy"/> marks the last visible filing of the study in that archive: the
/// archive's study record goes with it.
/// </summary>
public sealed record ArchiveFilingHidden(Guid StudyStreamId, string Project, string Archive, string ArchiveSeriesUid, string SopInstanceUid, bool EmptiesArchiveStudy);

/// <summary>A deprecation of the whole study (<paramref name="SeriesInstanceUid"/> null) or of one series began; it is pending until completed.</summary>
public sealed record StudyDeprecationStarted(
    Guid StudyStreamId,
    Guid DeprecationId,
    string StudyInstanceUid,
    string? SeriesInstanceUid,
    string Author,
    string Reason,
    Actor StartedBy,
    DateTimeOffset StartedAt);

/// <summary>
/// The deprecation's work is done: the rejection KOS (<paramref name="RejectionKosSopInstanceUid"/>, an
/// <see cref="InstanceStored"/> just before this event) is in the study, and the listed instances and
/// archive filings leave the read models.
/// </summary>
public sealed record StudyDeprecationCompleted(
    Guid StudyStreamId,
    Guid DeprecationId,
    string RejectionKosSopInstanceUid,
    IReadOnlyList<InstanceHidden> Hidden,
    IReadOnlyList<ArchiveFilingHidden> HiddenFilings,
    DateTimeOffset CompletedAt);

/// <summary>
/// A completed deprecation was undone (our own route): the deprecated instances come back as they were
/// last stored (<paramref name="Restored"/>, with their archive filings <paramref name="Refiled"/>), and the
/// rejection KOS leaves the read models (<paramref name="Hidden"/>): a restored study carries no rejection note.
/// </summary>
public sealed record StudyDeprecationRevoked(
    Guid StudyStreamId,
    Guid DeprecationId,
    string Author,
    string Reason,
    IReadOnlyList<InstanceStored> Restored,
    IReadOnlyList<InstanceFiledInArchive> Refiled,
    IReadOnlyList<InstanceHidden> Hidden,
    IReadOnlyList<ArchiveFilingHidden> HiddenFilings,
    Actor RevokedBy,
    DateTimeOffset RevokedAt)
{
    public StudyDeprecationRevoked WithPersonalDataErased() => this with
    {
        Restored = [.. Restored.Select(r => r with { Instance = r.Instance.WithPersonalDataErased() })],
        Refiled = [.. Refiled.Select(f => f.WithPersonalDataErased())],
    };
}
