using System.Collections.Immutable;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Patients;

/// <summary>
/// The patient aggregate: an identity (tenant, Issuer of Patient ID, PatientID), its demographics, the
/// studies filed under it, and the patient it was merged into, if any.
/// </summary>
public sealed record Patient(Guid Id, PatientDemographics Demographics, ImmutableSortedSet<string> Studies, Guid? MergedInto, PatientDemographics? MergedIntoPatient)
{
    private static readonly Guid Namespace = new("4b0f7f0e-5d1c-4f45-9a57-2f3e8c6d1a90");

    /// <summary>
    /// Name-based on tenant, issuer and PatientID, so the stream id is computed, never looked up: two
    /// concurrent creates of one identity collide on the stream id and exactly one commits. An absent
    /// issuer is the empty string (a real issuer is never empty: empty values are absent in DICOM).
    /// </summary>
    public static Guid StreamId(string tenantId, string? issuer, string patientId) =>
        DeterministicGuid.ForTenant(Namespace, tenantId, (issuer ?? "") + "\n" + patientId);

    public static Patient Create(PatientRegistered registered) =>
        new(registered.PatientStreamId, registered.Patient, ImmutableSortedSet.Create(StringComparer.Ordinal, Array.Empty<string>()), null, null);

    public Patient Apply(PatientDemographicsUpdated updated) => this with { Demographics = updated.Patient };

    public Patient Apply(PatientStudyLinked linked) => this with { Studies = Studies.Add(linked.StudyInstanceUid) };

    public Patient Apply(PatientStudyUnlinked unlinked) => this with { Studies = Studies.Remove(unlinked.StudyInstanceUid) };

    public Patient Apply(PatientMerged merged) => this with { MergedInto = merged.IntoPatientStreamId, MergedIntoPatient = merged.Into };

    public Patient Apply(PatientMergeUndone _) => this with { MergedInto = null, MergedIntoPatient = null };

    /// <summary>Set once the patient's personal data were erased.</summary>
    public Guid? ErasureId { get; init; }

    public Patient Apply(PatientErased erased) => this with
    {
        Demographics = PatientDemographics.Erased,
        MergedIntoPatient = MergedIntoPatient is null ? null : PatientDemographics.Erased,
        ErasureId = erased.ErasureId,
    };
}

/// <summary>Pure decisions about patients.</summary>
public static class PatientDecisions
{
    /// <summary><c>patients/create</c>: a PatientID is used once per issuer.</summary>
    public static (PatientRegistered? Event, Rejection? Rejection) Register(
        Patient? existing, Guid streamId, PatientDemographics patient, PatientOrigin origin, Actor by, DateTimeOffset now) =>
        existing is not null
            ? (null, Rejection.Conflict(
                $"A patient with PatientID '{patient.PatientId}'{IssuerText(patient.IssuerOfPatientId)} already exists: the provided patientID identifies more than one patient."))
            : (new PatientRegistered(streamId, patient, origin, by, now), null);

    public static string IssuerText(string? issuer) => issuer is null ? " (no issuer)" : $" of issuer '{issuer}'";
}
