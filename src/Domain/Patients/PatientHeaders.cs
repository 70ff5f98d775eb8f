using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Patients;

/// <summary>
/// The patient attributes of a DICOM JSON header (PS3.18 Annex F): read them, and coerce a header to a
/// patient (PS3.4: attributes coerced at retrieval, the stored bytes unchanged).
/// </summary>
public static class PatientHeaders
{
    /// <summary>The patient a header names; null without a PatientID.</summary>
    public static PatientDemographics? DemographicsOf(JsonElement header) =>
        Text(header, Tags.PatientID) is { } id
            ? new PatientDemographics(id, Text(header, Tags.IssuerOfPatientID), Name(header), Text(header, Tags.PatientBirthDate), Text(header, Tags.PatientSex))
            : null;

    /// <summary>The header with its patient attributes replaced by <paramref name="patient"/>'s (absent values removed).</summary>
    public static JsonElement Coerce(JsonElement header, PatientDemographics patient)
    {
        var node = HeaderJson.Object(header);
        Coerce(node, patient);
        return HeaderJson.Element(node);
    }

    public static void Coerce(JsonObject header, PatientDemographics patient)
    {
        Set(header, Tags.PatientName, "PN", patient.PatientName is null ? null : new JsonObject { ["Alphabetic"] = patient.PatientName });
        Set(header, Tags.PatientID, "LO", patient.PatientId);
        Set(header, Tags.IssuerOfPatientID, "LO", patient.IssuerOfPatientId);
        Set(header, Tags.PatientBirthDate, "DA", patient.PatientBirthDate);
        Set(header, Tags.PatientSex, "CS", patient.PatientSex);
    }

    private static void Set(JsonObject header, string tag, string vr, JsonNode? value)
    {
        if (value is null)
        {
            header.Remove(tag);
            return;
        }

        header[tag] = new JsonObject { ["vr"] = vr, ["Value"] = new JsonArray(value) };
    }

    private static string? Text(JsonElement header, string tag) =>
        header.ValueKind == JsonValueKind.Object
        && header.TryGetProperty(tag, out var attribute)
        && attribute.TryGetProperty("Value", out var values)
        && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0
        && values[0].ValueKind == JsonValueKind.String
        && values[0].GetString() is { Length: > 0 } s
            ? s.Trim()
            : null;

    private static string? Name(JsonElement header) =>
        header.ValueKind == JsonValueKind.Object
        && header.TryGetProperty(Tags.PatientName, out var attribute)
        && attribute.TryGetProperty("Value", out var values)
        && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0
        && values[0].ValueKind == JsonValueKind.Object
        && values[0].TryGetProperty("Alphabetic", out var alphabetic)
        && alphabetic.GetString() is { Length: > 0 } s
            ? s
            : null;
}
