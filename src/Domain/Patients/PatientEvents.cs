using EventSourced.Domain.Common;

namespace EventSourced.Domain.Patients;

// Events of the patient stream (key: name-based Guid of tenant + Issuer of Patient ID + PatientID, see
// Patient.StreamId). A patient is an identity (PatientID within its issuer) with demographics, the
// studies filed under it, and, once merged, the patient it was merged into.

/// <summary>The demographics a patient carries and a study shows (PS3.3 C.7.1.1). Null: the attribute is absent.</summary>
public sealed record PatientDemographics(string PatientId, string? IssuerOfPatientId, string? PatientName, string? PatientBirthDate, string? PatientSex)
{
    public static readonly PatientDemographics Erased = new("ERASED", null, "ERASED", null, null);
}

/// <summary>How a patient came into being.</summary>
public enum PatientOrigin
{
    /// <summary>The first received instance of an unknown patient.</summary>
    ReceivedInstance,

    /// <summary><c>patients/create</c>.</summary>
    Created,

    /// <summary>The unknown target of a merge, move or reconcile.</summary>
    CorrectionTarget,
}

public sealed record PatientRegistered(Guid PatientStreamId, PatientDemographics Patient, PatientOrigin Origin, Actor RegisteredBy, DateTimeOffset RegisteredAt);

public sealed record PatientDemographicsUpdated(
    Guid PatientStreamId, PatientDemographics Patient, PatientDemographics Previous, string? OperatorName, Actor UpdatedBy, DateTimeOffset UpdatedAt);

/// <summary>A study is now filed under this patient (received, moved or merged here).</summary>
public sealed record PatientStudyLinked(Guid PatientStreamId, string StudyInstanceUid, Guid? CorrectionId, Actor LinkedBy, DateTimeOffset LinkedAt);

/// <summary>A study left this patient (moved or merged away, or the correction that brought it was undone).</summary>
public sealed record PatientStudyUnlinked(Guid PatientStreamId, string StudyInstanceUid, Guid? CorrectionId, Actor UnlinkedBy, DateTimeOffset UnlinkedAt);

/// <summary>The patient was merged into another: it stays in the log, marked, and instances received for it later are filed under the survivor.</summary>
public sealed record PatientMerged(
    Guid PatientStreamId, Guid IntoPatientStreamId, PatientDemographics Into, Guid CorrectionId, string? OperatorName, Actor MergedBy, DateTimeOffset MergedAt);

/// <summary>The merge was undone: the patient is its own again.</summary>
public sealed record PatientMergeUndone(Guid PatientStreamId, Guid CorrectionId, Actor UndoneBy, DateTimeOffset UndoneAt);

/// <summary>
/// The patient's personal data were erased at their request (right to be forgotten): the demographics of
/// every event of the patient's, its studies' and its orders' streams are masked, the studies' instances
/// rewritten without the PS3.15 Annex E basic profile attributes. Names what was erased, never a value.
/// </summary>
public sealed record PatientErased(
    Guid PatientStreamId, Guid ErasureId, IReadOnlyList<string> StudyInstanceUids, IReadOnlyList<Guid> OrderIds, int InstancesRewritten, string? Reason, Actor ErasedBy, DateTimeOffset ErasedAt);
