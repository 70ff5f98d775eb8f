using EventSourced.Domain.Patients;
using Marten.Events.Aggregation;

namespace EventSourced.Projections.Patients;

/// <summary>
/// A patient as the dialects look it up: by PatientID, whatever its issuer (document e's calls other
/// than <c>patients/create</c> name no issuer). Inline, so a lookup sees the patient created or
/// merged by the previous request.
/// </summary>
public sealed record PatientRecord
{
    /// <summary>The patient stream id (Patient.StreamId).</summary>
    public Guid Id { get; init; }

    public string PatientId { get; init; } = "";
    public string? IssuerOfPatientId { get; init; }
    public string? PatientName { get; init; }
    public string? PatientBirthDate { get; init; }
    public string? PatientSex { get; init; }
    public PatientOrigin Origin { get; init; }
    public DateTimeOffset RegisteredAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public IReadOnlyList<string> StudyInstanceUids { get; init; } = [];

    /// <summary>Set while the patient is merged into another (stream id and PatientID of the survivor).</summary>
    public Guid? MergedInto { get; init; }

    public string? MergedIntoPatientId { get; init; }
}

public partial class PatientRecordProjection : SingleStreamProjection<PatientRecord, Guid>
{
    public static PatientRecord Create(PatientRegistered e) => With(new PatientRecord
    {
        Id = e.PatientStreamId,
        Origin = e.Origin,
        RegisteredAt = e.RegisteredAt,
    }, e.Patient, e.RegisteredAt);

    public PatientRecord Apply(PatientDemographicsUpdated e, PatientRecord record) => With(record, e.Patient, e.UpdatedAt);

    public PatientRecord Apply(PatientStudyLinked e, PatientRecord record) => record with
    {
        StudyInstanceUids = OrdinalSet.With(record.StudyInstanceUids, e.StudyInstanceUid),
        UpdatedAt = e.LinkedAt,
    };

    public PatientRecord Apply(PatientStudyUnlinked e, PatientRecord record) => record with
    {
        StudyInstanceUids = [.. record.StudyInstanceUids.Where(u => u != e.StudyInstanceUid)],
        UpdatedAt = e.UnlinkedAt,
    };

    public PatientRecord Apply(PatientMerged e, PatientRecord record) => record with
    {
        MergedInto = e.IntoPatientStreamId,
        MergedIntoPatientId = e.Into.PatientId,
        UpdatedAt = e.MergedAt,
    };

    public PatientRecord Apply(PatientMergeUndone e, PatientRecord record) => record with
    {
        MergedInto = null,
        MergedIntoPatientId = null,
        UpdatedAt = e.UndoneAt,
    };

    public PatientRecord Apply(PatientErased e, PatientRecord record) => With(record, PatientDemographics.Erased, e.ErasedAt) with
    {
        MergedIntoPatientId = record.MergedIntoPatientId is null ? null : PatientDemographics.Erased.PatientId,
    };

    private static PatientRecord With(PatientRecord record, PatientDemographics patient, DateTimeOffset at) => record with
    {
        PatientId = patient.PatientId,
        IssuerOfPatientId = patient.IssuerOfPatientId,
        PatientName = patient.PatientName,
        PatientBirthDate = patient.PatientBirthDate,
        PatientSex = patient.PatientSex,
        UpdatedAt = at,
    };
}

/// <summary>Live aggregations of the patient and correction streams for the write side.</summary>
public partial class PatientAggregation : SingleStreamProjection<Patient, Guid>
{
    public static Patient Create(PatientRegistered e) => Patient.Create(e);

    public Patient Apply(PatientDemographicsUpdated e, Patient p) => p.Apply(e);

    public Patient Apply(PatientStudyLinked e, Patient p) => p.Apply(e);

    public Patient Apply(PatientStudyUnlinked e, Patient p) => p.Apply(e);

    public Patient Apply(PatientMerged e, Patient p) => p.Apply(e);

    public Patient Apply(PatientMergeUndone e, Patient p) => p.Apply(e);

    public Patient Apply(PatientErased e, Patient p) => p.Apply(e);
}

public partial class CorrectionAggregation : SingleStreamProjection<Domain.Corrections.Correction, Guid>
{
    public static Domain.Corrections.Correction Create(Domain.Corrections.CorrectionRecorded e) => Domain.Corrections.Correction.Create(e);

    public Domain.Corrections.Correction Apply(Domain.Corrections.CorrectionUndone e, Domain.Corrections.Correction c) => c.Apply(e);
}
