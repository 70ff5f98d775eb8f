using System.Text.Json;
using EventSourced.Domain.Orders;

namespace EventSourced.Web.Shared.Orders;

/// <summary>
/// Maps the PACS order body (document e) onto <see cref="OrderDetails"/>. Field names match without
/// regard to case; a string is expected, a number is taken as its text (clients send IDs as numbers);
/// any other JSON type is an error naming the field. Unknown fields are ignored.
/// </summary>
public static class OrderFields
{
    public static readonly string[] FieldNames =
    [
        "PatientID", "PatientName", "StudyInstanceUID", "AccessionNumber", "Modality", "ScheduledStationAETitle",
        "ScheduledProcedureStepDescription", "ScheduledProcedureStepStartDate", "ScheduledProcedureStepStartTime",
        "ScheduledPerformingPhysiciansName", "ScheduledProcedureStepID", "RequestedProcedureDescription",
        "RequestedProcedureID", "RequestingPhysician", "ReferringPhysicianName", "AdmissionID", "CurrentPatientLocation",
        "PatientBirthDate", "PatientSex", "ConfidentialityConstraintOnPatientDataDescription", "PatientState",
        "PregnancyStatus", "MedicalAlerts", "PlacerOrderNumberImagingServiceRequest", "ServiceEpisodeID", "ScheduledStationName",
    ];

    public static (OrderDetails Details, List<(string Field, string Message)> Errors) Read(JsonElement body)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var errors = new List<(string, string)>();
        foreach (var property in body.EnumerateObject())
        {
            var name = FieldNames.FirstOrDefault(f => f.Equals(property.Name, StringComparison.OrdinalIgnoreCase));
            if (name is null)
            {
                continue;
            }

            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String:
                    values[name] = property.Value.GetString();
                    break;
                case JsonValueKind.Number:
                    values[name] = property.Value.GetRawText();
                    break;
                case JsonValueKind.Null:
                    values[name] = null;
                    break;
                default:
                    errors.Add((name, $"'{name}' must be a string."));
                    break;
            }
        }

        return (Build(values), errors);
    }

    /// <summary>The order's fields from values keyed by the document's field names (any casing); absent mandatory ones are empty.</summary>
    public static OrderDetails Build(IReadOnlyDictionary<string, string?> values)
    {
        string? Get(string name) => values.GetValueOrDefault(name);
        return new OrderDetails
        {
            PatientId = Get("PatientID") ?? "",
            PatientName = Get("PatientName") ?? "",
            StudyInstanceUid = Get("StudyInstanceUID") ?? "",
            AccessionNumber = Get("AccessionNumber") ?? "",
            Modality = Get("Modality") ?? "",
            ScheduledStationAETitle = Get("ScheduledStationAETitle") ?? "",
            ScheduledProcedureStepDescription = Get("ScheduledProcedureStepDescription") ?? "",
            ScheduledProcedureStepStartDate = Get("ScheduledProcedureStepStartDate") ?? "",
            ScheduledProcedureStepStartTime = Get("ScheduledProcedureStepStartTime") ?? "",
            ScheduledPerformingPhysiciansName = Get("ScheduledPerformingPhysiciansName"),
            ScheduledProcedureStepId = Get("ScheduledProcedureStepID"),
            RequestedProcedureDescription = Get("RequestedProcedureDescription"),
            RequestedProcedureId = Get("RequestedProcedureID"),
            RequestingPhysician = Get("RequestingPhysician"),
            ReferringPhysicianName = Get("ReferringPhysicianName"),
            AdmissionId = Get("AdmissionID"),
            CurrentPatientLocation = Get("CurrentPatientLocation"),
            PatientBirthDate = Get("PatientBirthDate"),
            PatientSex = Get("PatientSex"),
            ConfidentialityConstraintOnPatientDataDescription = Get("ConfidentialityConstraintOnPatientDataDescription"),
            PatientState = Get("PatientState"),
            PregnancyStatus = Get("PregnancyStatus"),
            MedicalAlerts = Get("MedicalAlerts"),
            PlacerOrderNumberImagingServiceRequest = Get("PlacerOrderNumberImagingServiceRequest"),
            ServiceEpisodeId = Get("ServiceEpisodeID"),
            ScheduledStationName = Get("ScheduledStationName"),
        };
    }
}
