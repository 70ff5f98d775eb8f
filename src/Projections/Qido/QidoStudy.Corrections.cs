using System.Text.Json;
using EventSourced.Domain.Common;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Qido;

/// <summary>
/// Patient corrections on the study document: the study shows its assigned patient (if any) over the
/// patient attributes of its received headers; with none assigned, what was received.
/// </summary>
public partial class QidoStudyProjection
{
    // A study stream always starts with an instance; null (no document) for a stream that did not.
    public QidoStudy? Apply(StudyPatientAssigned assigned, QidoStudy study) =>
        study.Attributes.ValueKind != JsonValueKind.Object
            ? null
            : WithAssignedPatient(study with { AssignedPatient = assigned.Patient, UpdatedAt = assigned.AssignedAt });

    /// <summary>Attributes and patient columns = the received attributes, coerced to the assigned patient.</summary>
    internal static QidoStudy WithAssignedPatient(QidoStudy study)
    {
        var received = study.ReceivedAttributes is { ValueKind: JsonValueKind.Object } r ? r : study.Attributes;
        var attributes = study.AssignedPatient is { } patient ? PatientHeaders.Coerce(received, patient) : received;
        return study with
        {
            ReceivedAttributes = received,
            Attributes = attributes,
            PatientId = QidoAttributes.First(attributes, Tags.PatientID),
            PatientName = QidoAttributes.First(attributes, Tags.PatientName),
            PatientNameFuzzy = QidoAttributes.Fuzzy(QidoAttributes.PersonNameGroups(attributes, Tags.PatientName)),
            PatientBirthDate = QidoAttributes.Date(attributes, Tags.PatientBirthDate),
            PatientSex = QidoAttributes.First(attributes, Tags.PatientSex),
        };
    }
}
