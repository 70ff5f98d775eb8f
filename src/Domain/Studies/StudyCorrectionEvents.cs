using EventSourced.Domain.Common;
using EventSourced.Domain.Patients;

namespace EventSourced.Domain.Studies;

// Corrections of a study's identity, on the study stream. The stored instances stay as received; the
// study's patient is what these events say (null: the patient of its instances' headers, as received),
// and every read path shows it (QIDO, metadata, and the bytes served, coerced at retrieval, PS3.4).

/// <summary>Why a study's patient changed.</summary>
public enum StudyPatientChangeReason
{
    /// <summary><c>patients/update</c>: the patient's demographics changed.</summary>
    PatientUpdated,

    /// <summary><c>patients/merge</c>: the study's patient was merged into another.</summary>
    PatientMerged,

    /// <summary><c>studies/move</c>.</summary>
    StudyMoved,

    /// <summary>Received for a patient already merged into another: filed under the survivor.</summary>
    ReceivedForMergedPatient,

    /// <summary>A correction was undone.</summary>
    CorrectionUndone,
}

/// <summary>
/// The study is now filed under <paramref name="Patient"/> (null: back to the patient of its instances'
/// headers). <paramref name="Previous"/> is what it was, so the event is its own inverse's input.
/// </summary>
public sealed record StudyPatientAssigned(
    Guid StudyStreamId,
    string StudyInstanceUid,
    PatientDemographics? Patient,
    PatientDemographics? Previous,
    StudyPatientChangeReason Reason,
    Guid? CorrectionId,
    Actor AssignedBy,
    DateTimeOffset AssignedAt);
