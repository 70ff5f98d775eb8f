using System.Text.Json;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Orders;

/// <summary>
/// Metadata an order may require that a stored instance's DICOM header can carry (document b: required
/// metadata comes by PATCH or in the DICOM tags). Keyed by DICOM keyword (PS3.6), which is also how the
/// order's fields and PATCH keys name them, so one name satisfies a requirement whichever way it came.
/// </summary>
public static class HeaderMetadata
{
    public static readonly IReadOnlyDictionary<string, string> TagsByKeyword = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(Tags.PatientID)] = Tags.PatientID,
        [nameof(Tags.PatientName)] = Tags.PatientName,
        [nameof(Tags.PatientBirthDate)] = Tags.PatientBirthDate,
        [nameof(Tags.PatientSex)] = Tags.PatientSex,
        [nameof(Tags.PatientAge)] = Tags.PatientAge,
        [nameof(Tags.PatientSize)] = Tags.PatientSize,
        [nameof(Tags.PatientWeight)] = Tags.PatientWeight,
        [nameof(Tags.PregnancyStatus)] = Tags.PregnancyStatus,
        [nameof(Tags.MedicalAlerts)] = Tags.MedicalAlerts,
        [nameof(Tags.AccessionNumber)] = Tags.AccessionNumber,
        [nameof(Tags.Modality)] = Tags.Modality,
        [nameof(Tags.ReferringPhysicianName)] = Tags.ReferringPhysicianName,
        [nameof(Tags.StudyDate)] = Tags.StudyDate,
        [nameof(Tags.StudyDescription)] = Tags.StudyDescription,
        [nameof(Tags.BodyPartExamined)] = Tags.BodyPartExamined,
        [nameof(Tags.ViewPosition)] = Tags.ViewPosition,
        [nameof(Tags.RequestingPhysician)] = Tags.RequestingPhysician,
        [nameof(Tags.RequestedProcedureDescription)] = Tags.RequestedProcedureDescription,
        [nameof(Tags.RequestedProcedureID)] = Tags.RequestedProcedureID,
        [nameof(Tags.AdmissionID)] = Tags.AdmissionID,
        [nameof(Tags.CurrentPatientLocation)] = Tags.CurrentPatientLocation,
        [nameof(Tags.PatientState)] = Tags.PatientState,
        [nameof(Tags.PlacerOrderNumberImagingServiceRequest)] = Tags.PlacerOrderNumberImagingServiceRequest,
        [nameof(Tags.ConfidentialityConstraintOnPatientDataDescription)] = Tags.ConfidentialityConstraintOnPatientDataDescription,
    };

    /// <summary>The keywords whose attribute the DICOM JSON header (PS3.18 F.2) holds a non-empty value for, sorted.</summary>
    public static IReadOnlyList<string> PresentIn(JsonElement header)
    {
        if (header.ValueKind != JsonValueKind.Object)
        {
            return [];
        }

        var present = new List<string>();
        foreach (var (keyword, tag) in TagsByKeyword)
        {
            if (header.TryGetProperty(tag, out var attribute) && HasValue(attribute))
            {
                present.Add(keyword);
            }
        }

        present.Sort(StringComparer.Ordinal);
        return present;
    }

    private static bool HasValue(JsonElement attribute)
    {
        if (attribute.ValueKind != JsonValueKind.Object
            || !attribute.TryGetProperty("Value", out var values)
            || values.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var value in values.EnumerateArray())
        {
            var present = value.ValueKind switch
            {
                JsonValueKind.String => !string.IsNullOrWhiteSpace(value.GetString()),
                JsonValueKind.Number => true,
                JsonValueKind.Object => value.EnumerateObject().Any(g => g.Value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(g.Value.GetString())),
                _ => false,
            };
            if (present)
            {
                return true;
            }
        }

        return false;
    }
}
