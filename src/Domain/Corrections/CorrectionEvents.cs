using EventSourced.Domain.Common;
using EventSourced.Domain.Patients;

namespace EventSourced.Domain.Corrections;

// A correction (merge, move) is its own stream (key: a version 7 Guid returned to the caller), recording
// what it changed on which streams, so that our undo route can append the inverse events. Nothing is
// ever removed from the log: an undo is more events.

public enum CorrectionKind
{
    PatientMerge,
    StudyMove,

    /// <summary><c>studies/reconcile</c>: the series of one study moved to another.</summary>
    StudyReconcile,

    /// <summary><c>studies/swap</c>: two studies exchanged their series.</summary>
    StudySwap,
}

/// <summary>
/// Series a correction moved from one study to another. <paramref name="LinkedPatientStreamId"/>: the
/// patient the target study was newly filed under (a reconcile that created the target), unlinked on undo.
/// </summary>
public sealed record SeriesMove(
    string FromStudyInstanceUid, string ToStudyInstanceUid, IReadOnlyList<string> SeriesInstanceUids, Guid? LinkedPatientStreamId);

/// <summary>One study's patient as the correction changed it: From (null: as received) → To.</summary>
public sealed record StudyPatientChange(
    string StudyInstanceUid, PatientDemographics? From, PatientDemographics To, Guid? FromPatientStreamId, Guid ToPatientStreamId);

public sealed record CorrectionRecorded(
    Guid CorrectionId,
    CorrectionKind Kind,
    IReadOnlyList<StudyPatientChange> Studies,
    Guid? MergedPatientStreamId,
    string? UserName,
    string? OperatorName,
    Actor RecordedBy,
    DateTimeOffset RecordedAt)
{
    /// <summary>The series moves of a reconcile or swap (empty for patient corrections).</summary>
    public IReadOnlyList<SeriesMove> SeriesMoves { get; init; } = [];
}

public sealed record CorrectionUndone(Guid CorrectionId, string? UserName, Actor UndoneBy, DateTimeOffset UndoneAt);

public sealed record Correction(Guid Id, CorrectionRecorded Recorded, bool Undone)
{
    public static Correction Create(CorrectionRecorded recorded) => new(recorded.CorrectionId, recorded, false);

    public Correction Apply(CorrectionUndone _) => this with { Undone = true };
}
