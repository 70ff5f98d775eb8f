using System.Text.Json;

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
        ["PatientID"] = "00100020",
        ["PatientName"] = "00100010",
        ["PatientBirthDate"] = "00100030",
        ["PatientSex"] = "00100040",
        ["PatientAge"] = "00101010",
        ["PatientSize"] = "00101020",
        ["PatientWeight"] = "00101030",
        ["PregnancyStatus"] = "001021C0",
        ["MedicalAlerts"] = "00102000",
        ["AccessionNumber"] = "00080050",
        ["Modality"] = "00080060",
        ["ReferringPhysicianName"] = "00080090",
        ["StudyDate"] = "00080020",
        ["StudyDescription"] = "00081030",
        ["BodyPartExamined"] = "00180015",
        ["ViewPosition"] = "00185101",
        ["RequestingPhysician"] = "00321032",
        ["RequestedProcedureDescription"] = "00321060",
        ["RequestedProcedureID"] = "00401001",
        ["AdmissionID"] = "00380010",
        ["CurrentPatientLocation"] = "00380300",
        ["PatientState"] = "00380500",
        ["PlacerOrderNumberImagingServiceRequest"] = "00402016",
        ["ConfidentialityConstraintOnPatientDataDescription"] = "00403001",
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
