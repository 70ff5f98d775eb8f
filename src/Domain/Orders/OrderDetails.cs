namespace EventSourced.Domain.Orders;

/// <summary>
/// What an imaging order asks for, as the PACS order API (document e, "Create Order API") carries it.
/// The names are the document's; most are DICOM keywords (PS3.6) of the Modality Worklist attributes.
/// The nine mandatory ones are non-null once validated; the rest are kept exactly as received.
/// </summary>
public sealed record OrderDetails
{
    public required string PatientId { get; init; }
    public required string PatientName { get; init; }
    public required string StudyInstanceUid { get; init; }
    public required string AccessionNumber { get; init; }
    public required string Modality { get; init; }
    public required string ScheduledStationAETitle { get; init; }
    public required string ScheduledProcedureStepDescription { get; init; }
    public required string ScheduledProcedureStepStartDate { get; init; }
    public required string ScheduledProcedureStepStartTime { get; init; }

    public string? ScheduledPerformingPhysiciansName { get; init; }
    public string? ScheduledProcedureStepId { get; init; }
    public string? RequestedProcedureDescription { get; init; }
    public string? RequestedProcedureId { get; init; }
    public string? RequestingPhysician { get; init; }
    public string? ReferringPhysicianName { get; init; }
    public string? AdmissionId { get; init; }
    public string? CurrentPatientLocation { get; init; }
    public string? PatientBirthDate { get; init; }
    public string? PatientSex { get; init; }
    public string? ConfidentialityConstraintOnPatientDataDescription { get; init; }
    public string? PatientState { get; init; }
    public string? PregnancyStatus { get; init; }
    public string? MedicalAlerts { get; init; }
    public string? PlacerOrderNumberImagingServiceRequest { get; init; }
    public string? ServiceEpisodeId { get; init; }
    public string? ScheduledStationName { get; init; }

    public const string Erased = "ERASED";

    /// <summary>
    /// The same order with the patient's personal data removed, for erasure requests: the event log keeps
    /// its shape (the order, its study, its schedule, its history) and loses who the patient was.
    /// Applied to stored events by Marten's protected-information masking (docs/architecture.md).
    /// </summary>
    public OrderDetails WithPersonalDataErased() => this with
    {
        PatientId = Erased,
        PatientName = Erased,
        PatientBirthDate = null,
        PatientSex = null,
        AdmissionId = null,
        CurrentPatientLocation = null,
        PatientState = null,
        PregnancyStatus = null,
        MedicalAlerts = null,
        ConfidentialityConstraintOnPatientDataDescription = null,
        ServiceEpisodeId = null,
    };

    /// <summary>
    /// The order's fields as metadata entries keyed by the document's field names, non-empty values
    /// only. Required metadata (see <see cref="Order.MissingMetadata"/>) can be satisfied by these as
    /// well as by later <see cref="OrderMetadataAdded"/> events.
    /// </summary>
    public IEnumerable<string> PresentFieldNames()
    {
        foreach (var (name, value) in Fields())
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                yield return name;
            }
        }
    }

    public IEnumerable<(string Name, string? Value)> Fields()
    {
        yield return ("PatientID", PatientId);
        yield return ("PatientName", PatientName);
        yield return ("StudyInstanceUID", StudyInstanceUid);
        yield return ("AccessionNumber", AccessionNumber);
        yield return ("Modality", Modality);
        yield return ("ScheduledStationAETitle", ScheduledStationAETitle);
        yield return ("ScheduledProcedureStepDescription", ScheduledProcedureStepDescription);
        yield return ("ScheduledProcedureStepStartDate", ScheduledProcedureStepStartDate);
        yield return ("ScheduledProcedureStepStartTime", ScheduledProcedureStepStartTime);
        yield return ("ScheduledPerformingPhysiciansName", ScheduledPerformingPhysiciansName);
        yield return ("ScheduledProcedureStepID", ScheduledProcedureStepId);
        yield return ("RequestedProcedureDescription", RequestedProcedureDescription);
        yield return ("RequestedProcedureID", RequestedProcedureId);
        yield return ("RequestingPhysician", RequestingPhysician);
        yield return ("ReferringPhysicianName", ReferringPhysicianName);
        yield return ("AdmissionID", AdmissionId);
        yield return ("CurrentPatientLocation", CurrentPatientLocation);
        yield return ("PatientBirthDate", PatientBirthDate);
        yield return ("PatientSex", PatientSex);
        yield return ("ConfidentialityConstraintOnPatientDataDescription", ConfidentialityConstraintOnPatientDataDescription);
        yield return ("PatientState", PatientState);
        yield return ("PregnancyStatus", PregnancyStatus);
        yield return ("MedicalAlerts", MedicalAlerts);
        yield return ("PlacerOrderNumberImagingServiceRequest", PlacerOrderNumberImagingServiceRequest);
        yield return ("ServiceEpisodeID", ServiceEpisodeId);
        yield return ("ScheduledStationName", ScheduledStationName);
    }
}
