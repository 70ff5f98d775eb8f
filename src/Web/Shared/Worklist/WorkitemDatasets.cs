using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourced.Domain.Orders;
using EventSourced.Projections.Orders;
using EventSourced.Web.Shared.Orders;

namespace EventSourced.Web.Shared.Worklist;

/// <summary>
/// An order as DICOM JSON (PS3.18 F.2): the Modality Worklist shape of document c's <c>GET /workitems</c>
/// (exactly the attributes, order and nesting of the document's example, empty attributes sent as
/// <c>{"vr": …}</c> without a Value), and the UPS shape of UPS-RS (PS3.4 Table CC.2.5-3), plus reading
/// a UPS-RS create data set back into the order's fields.
/// </summary>
public static class WorkitemDatasets
{
    /// <summary>UPS Push SOP Class (PS3.4 CC.3.1): the SOP Class of every workitem this SCP manages.</summary>
    public const string UpsPushSopClassUid = "1.2.840.10008.5.1.4.34.6.1";

    /// <summary>The character set every value is in (UTF-8, PS3.3 C.12.1.1.2).</summary>
    public const string CharacterSet = "ISO_IR 192";

    public static JsonObject ModalityWorklist(OrderSummary order)
    {
        var d = order.Details;
        return new JsonObject
        {
            ["00080005"] = Attr("CS", CharacterSet),
            ["00080050"] = Attr("SH", d.AccessionNumber),
            ["00080090"] = Name(d.ReferringPhysicianName),
            ["00100010"] = Name(d.PatientName),
            ["00100020"] = Attr("LO", d.PatientId),
            ["00100030"] = Attr("DA", d.PatientBirthDate),
            ["00100040"] = Attr("CS", d.PatientSex),
            ["00102000"] = Attr("LO", d.MedicalAlerts),
            ["001021C0"] = UnsignedShort(d.PregnancyStatus),
            ["0020000D"] = Attr("UI", d.StudyInstanceUid),
            ["00321032"] = Name(d.RequestingPhysician),
            ["00321060"] = Attr("LO", d.RequestedProcedureDescription),
            ["00380010"] = Attr("LO", d.AdmissionId),
            ["00380300"] = Attr("LO", d.CurrentPatientLocation),
            ["00380500"] = Attr("LO", d.PatientState),
            ["00400100"] = Sequence(new JsonObject
            {
                ["00080060"] = Attr("CS", d.Modality),
                ["00400001"] = Attr("AE", d.ScheduledStationAETitle),
                ["00400002"] = Attr("DA", d.ScheduledProcedureStepStartDate),
                ["00400003"] = Attr("TM", d.ScheduledProcedureStepStartTime),
                ["00400006"] = Name(d.ScheduledPerformingPhysiciansName),
                ["00400007"] = Attr("LO", d.ScheduledProcedureStepDescription),
                ["00400009"] = Attr("SH", d.ScheduledProcedureStepId),
                ["00400010"] = Attr("SH", d.ScheduledStationName),
            }),
            ["00401001"] = Attr("SH", d.RequestedProcedureId),
            ["00402016"] = Attr("LO", d.PlacerOrderNumberImagingServiceRequest),
            ["00403001"] = Attr("LO", d.ConfidentialityConstraintOnPatientDataDescription),
        };
    }

    /// <summary>
    /// The order as a UPS (PS3.4 Table CC.2.5-3), attributes in tag order. The Transaction UID is never
    /// returned (PS3.4 CC.2.1.3). Modality, Scheduled Station AE Title and Name are not UPS attributes;
    /// they are returned too, so an order made in another dialect keeps every field it was made with.
    /// </summary>
    public static JsonObject Ups(OrderSummary order)
    {
        var d = order.Details;
        var dataset = new JsonObject
        {
            ["00080005"] = Attr("CS", CharacterSet),
            ["00080016"] = Attr("UI", UpsPushSopClassUid),
            ["00080018"] = Attr("UI", order.WorkitemUid),
            ["00080050"] = Attr("SH", d.AccessionNumber),
            ["00080060"] = Attr("CS", d.Modality),
            ["00080090"] = Name(d.ReferringPhysicianName),
            ["00100010"] = Name(d.PatientName),
            ["00100020"] = Attr("LO", d.PatientId),
            ["00100030"] = Attr("DA", d.PatientBirthDate),
            ["00100040"] = Attr("CS", d.PatientSex),
            ["00102000"] = Attr("LO", d.MedicalAlerts),
            ["0020000D"] = Attr("UI", d.StudyInstanceUid),
            ["00380010"] = Attr("LO", d.AdmissionId),
            ["00400001"] = Attr("AE", d.ScheduledStationAETitle),
            ["00400010"] = Attr("SH", d.ScheduledStationName),
            ["00404005"] = Attr("DT", order.ScheduledStartDateTime),
            ["00404041"] = Attr("CS", "READY"),
            ["0040A370"] = Sequence(new JsonObject
            {
                ["00080050"] = Attr("SH", d.AccessionNumber),
                ["0020000D"] = Attr("UI", d.StudyInstanceUid),
                ["00321032"] = Name(d.RequestingPhysician),
                ["00321060"] = Attr("LO", d.RequestedProcedureDescription),
                ["00401001"] = Attr("SH", d.RequestedProcedureId),
                ["00402016"] = Attr("LO", d.PlacerOrderNumberImagingServiceRequest),
            }),
            ["00741000"] = Attr("CS", order.ProcedureStepState.ToDicom()),
            ["00741200"] = Attr("CS", "MEDIUM"),
            ["00741202"] = Attr("LO", null),
            ["00741204"] = Attr("LO", d.ScheduledProcedureStepDescription),
        };
        return dataset;
    }

    private static JsonObject Attr(string vr, string? value) =>
        string.IsNullOrEmpty(value)
            ? new JsonObject { ["vr"] = vr }
            : new JsonObject { ["vr"] = vr, ["Value"] = new JsonArray(value) };

    private static JsonObject Name(string? value) =>
        string.IsNullOrEmpty(value)
            ? new JsonObject { ["vr"] = "PN" }
            : new JsonObject { ["vr"] = "PN", ["Value"] = new JsonArray(new JsonObject { ["Alphabetic"] = value }) };

    /// <summary>Pregnancy Status (0010,21C0) is US; the order keeps free text (document e's example), so only a number is sent as a value.</summary>
    private static JsonObject UnsignedShort(string? value) =>
        ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? new JsonObject { ["vr"] = "US", ["Value"] = new JsonArray(number) }
            : new JsonObject { ["vr"] = "US" };

    private static JsonObject Sequence(JsonObject item) => new() { ["vr"] = "SQ", ["Value"] = new JsonArray(item) };

    /// <summary>
    /// Reads a UPS-RS create data set into the order's fields, by the document's field names (as
    /// <c>OrderFields</c> expects them). Each field is looked for where UPS puts it and, failing that,
    /// where a Modality Worklist puts it: Study Instance UID and Accession Number at the top or in the
    /// Referenced Request Sequence; the start as Scheduled Procedure Step Start DateTime (0040,4005) or
    /// the MWL date and time; the description as Procedure Step Label (0074,1204) or (0040,0007).
    /// </summary>
    public static Dictionary<string, string?> ReadUps(JsonElement dataset)
    {
        var request = First(dataset, "0040A370");
        var step = First(dataset, "00400100");
        string? Find(string tag, params JsonElement?[] nested) =>
            Value(dataset, tag) ?? nested.Select(n => n is { } e ? Value(e, tag) : null).FirstOrDefault(v => v is not null);

        var fields = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["PatientID"] = Find("00100020"),
            ["PatientName"] = Find("00100010"),
            ["PatientBirthDate"] = Find("00100030"),
            ["PatientSex"] = Find("00100040"),
            ["MedicalAlerts"] = Find("00102000"),
            ["AdmissionID"] = Find("00380010"),
            ["CurrentPatientLocation"] = Find("00380300"),
            ["PatientState"] = Find("00380500"),
            ["ReferringPhysicianName"] = Find("00080090"),
            ["StudyInstanceUID"] = Find("0020000D", request),
            ["AccessionNumber"] = Find("00080050", request),
            ["RequestingPhysician"] = Find("00321032", request),
            ["RequestedProcedureDescription"] = Find("00321060", request),
            ["RequestedProcedureID"] = Find("00401001", request),
            ["PlacerOrderNumberImagingServiceRequest"] = Find("00402016", request),
            ["Modality"] = Find("00080060", step),
            ["ScheduledStationAETitle"] = Find("00400001", step),
            ["ScheduledStationName"] = Find("00400010", step),
            ["ScheduledPerformingPhysiciansName"] = Find("00400006", step),
            ["ScheduledProcedureStepID"] = Find("00400009", step),
            ["ScheduledProcedureStepDescription"] = Find("00741204") ?? Find("00400007", step),
        };

        if (Find("00404005") is { Length: >= 8 } start)
        {
            fields["ScheduledProcedureStepStartDate"] = start[..8];
            var time = new string(start[8..].TakeWhile(char.IsAsciiDigit).ToArray());
            fields["ScheduledProcedureStepStartTime"] = time.Length == 0 ? "000000" : time;
        }
        else
        {
            fields["ScheduledProcedureStepStartDate"] = Find("00400002", step);
            fields["ScheduledProcedureStepStartTime"] = Find("00400003", step);
        }

        return fields;
    }

    private static JsonElement? First(JsonElement dataset, string tag) =>
        dataset.TryGetProperty(tag, out var attribute)
        && attribute.ValueKind == JsonValueKind.Object
        && attribute.TryGetProperty("Value", out var values)
        && values.ValueKind == JsonValueKind.Array
        && values.GetArrayLength() > 0
        && values[0].ValueKind == JsonValueKind.Object
            ? values[0]
            : null;

    /// <summary>The first value of an attribute as text (a PN's Alphabetic group); null when absent or empty.</summary>
    public static string? Value(JsonElement dataset, string tag)
    {
        if (dataset.ValueKind != JsonValueKind.Object
            || !dataset.TryGetProperty(tag, out var attribute)
            || attribute.ValueKind != JsonValueKind.Object
            || !attribute.TryGetProperty("Value", out var values)
            || values.ValueKind != JsonValueKind.Array
            || values.GetArrayLength() == 0)
        {
            return null;
        }

        var first = values[0];
        var text = first.ValueKind switch
        {
            JsonValueKind.String => first.GetString(),
            JsonValueKind.Number => first.GetRawText(),
            JsonValueKind.Object when first.TryGetProperty("Alphabetic", out var alphabetic) && alphabetic.ValueKind == JsonValueKind.String => alphabetic.GetString(),
            _ => null,
        };
        return string.IsNullOrEmpty(text) ? null : text;
    }
}
