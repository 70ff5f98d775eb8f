using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourced.Domain.Orders;
using EventSourced.Projections.Orders;
using EventSourced.Web.Shared.Orders;
using EventSourced.Dicom;

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
            [DicomTags.SpecificCharacterSet.JsonKey()] = Attr("CS", CharacterSet),
            [DicomTags.AccessionNumber.JsonKey()] = Attr("SH", d.AccessionNumber),
            [DicomTags.ReferringPhysicianName.JsonKey()] = Name(d.ReferringPhysicianName),
            [DicomTags.PatientName.JsonKey()] = Name(d.PatientName),
            [DicomTags.PatientID.JsonKey()] = Attr("LO", d.PatientId),
            [DicomTags.PatientBirthDate.JsonKey()] = Attr("DA", d.PatientBirthDate),
            [DicomTags.PatientSex.JsonKey()] = Attr("CS", d.PatientSex),
            [DicomTags.MedicalAlerts.JsonKey()] = Attr("LO", d.MedicalAlerts),
            [DicomTags.PregnancyStatus.JsonKey()] = UnsignedShort(d.PregnancyStatus),
            [DicomTags.StudyInstanceUID.JsonKey()] = Attr("UI", d.StudyInstanceUid),
            [DicomTags.RequestingPhysician.JsonKey()] = Name(d.RequestingPhysician),
            [DicomTags.RequestedProcedureDescription.JsonKey()] = Attr("LO", d.RequestedProcedureDescription),
            [DicomTags.AdmissionID.JsonKey()] = Attr("LO", d.AdmissionId),
            [DicomTags.CurrentPatientLocation.JsonKey()] = Attr("LO", d.CurrentPatientLocation),
            [DicomTags.PatientState.JsonKey()] = Attr("LO", d.PatientState),
            [DicomTags.ScheduledProcedureStepSequence.JsonKey()] = Sequence(new JsonObject
            {
                [DicomTags.Modality.JsonKey()] = Attr("CS", d.Modality),
                [DicomTags.ScheduledStationAETitle.JsonKey()] = Attr("AE", d.ScheduledStationAETitle),
                [DicomTags.ScheduledProcedureStepStartDate.JsonKey()] = Attr("DA", d.ScheduledProcedureStepStartDate),
                [DicomTags.ScheduledProcedureStepStartTime.JsonKey()] = Attr("TM", d.ScheduledProcedureStepStartTime),
                [DicomTags.ScheduledPerformingPhysicianName.JsonKey()] = Name(d.ScheduledPerformingPhysiciansName),
                [DicomTags.ScheduledProcedureStepDescription.JsonKey()] = Attr("LO", d.ScheduledProcedureStepDescription),
                [DicomTags.ScheduledProcedureStepID.JsonKey()] = Attr("SH", d.ScheduledProcedureStepId),
                [DicomTags.ScheduledStationName.JsonKey()] = Attr("SH", d.ScheduledStationName),
            }),
            [DicomTags.RequestedProcedureID.JsonKey()] = Attr("SH", d.RequestedProcedureId),
            [DicomTags.PlacerOrderNumberImagingServiceRequest.JsonKey()] = Attr("LO", d.PlacerOrderNumberImagingServiceRequest),
            [DicomTags.ConfidentialityConstraintOnPatientDataDescription.JsonKey()] = Attr("LO", d.ConfidentialityConstraintOnPatientDataDescription),
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
            [DicomTags.SpecificCharacterSet.JsonKey()] = Attr("CS", CharacterSet),
            [DicomTags.SOPClassUID.JsonKey()] = Attr("UI", UpsPushSopClassUid),
            [DicomTags.SOPInstanceUID.JsonKey()] = Attr("UI", order.WorkitemUid),
            [DicomTags.AccessionNumber.JsonKey()] = Attr("SH", d.AccessionNumber),
            [DicomTags.Modality.JsonKey()] = Attr("CS", d.Modality),
            [DicomTags.ReferringPhysicianName.JsonKey()] = Name(d.ReferringPhysicianName),
            [DicomTags.PatientName.JsonKey()] = Name(d.PatientName),
            [DicomTags.PatientID.JsonKey()] = Attr("LO", d.PatientId),
            [DicomTags.PatientBirthDate.JsonKey()] = Attr("DA", d.PatientBirthDate),
            [DicomTags.PatientSex.JsonKey()] = Attr("CS", d.PatientSex),
            [DicomTags.MedicalAlerts.JsonKey()] = Attr("LO", d.MedicalAlerts),
            [DicomTags.StudyInstanceUID.JsonKey()] = Attr("UI", d.StudyInstanceUid),
            [DicomTags.AdmissionID.JsonKey()] = Attr("LO", d.AdmissionId),
            [DicomTags.ScheduledStationAETitle.JsonKey()] = Attr("AE", d.ScheduledStationAETitle),
            [DicomTags.ScheduledStationName.JsonKey()] = Attr("SH", d.ScheduledStationName),
            [DicomTags.ScheduledProcedureStepStartDateTime.JsonKey()] = Attr("DT", order.ScheduledStartDateTime),
            [DicomTags.InputReadinessState.JsonKey()] = Attr("CS", "READY"),
            [DicomTags.ReferencedRequestSequence.JsonKey()] = Sequence(new JsonObject
            {
                [DicomTags.AccessionNumber.JsonKey()] = Attr("SH", d.AccessionNumber),
                [DicomTags.StudyInstanceUID.JsonKey()] = Attr("UI", d.StudyInstanceUid),
                [DicomTags.RequestingPhysician.JsonKey()] = Name(d.RequestingPhysician),
                [DicomTags.RequestedProcedureDescription.JsonKey()] = Attr("LO", d.RequestedProcedureDescription),
                [DicomTags.RequestedProcedureID.JsonKey()] = Attr("SH", d.RequestedProcedureId),
                [DicomTags.PlacerOrderNumberImagingServiceRequest.JsonKey()] = Attr("LO", d.PlacerOrderNumberImagingServiceRequest),
            }),
            [DicomTags.ProcedureStepState.JsonKey()] = Attr("CS", order.ProcedureStepState.ToDicom()),
            [DicomTags.ScheduledProcedureStepPriority.JsonKey()] = Attr("CS", "MEDIUM"),
            [DicomTags.WorklistLabel.JsonKey()] = Attr("LO", null),
            [DicomTags.ProcedureStepLabel.JsonKey()] = Attr("LO", d.ScheduledProcedureStepDescription),
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
        var request = First(dataset, DicomTags.ReferencedRequestSequence.JsonKey());
        var step = First(dataset, DicomTags.ScheduledProcedureStepSequence.JsonKey());
        string? Find(string tag, params JsonElement?[] nested) =>
            Value(dataset, tag) ?? nested.Select(n => n is { } e ? Value(e, tag) : null).FirstOrDefault(v => v is not null);

        var fields = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["PatientID"] = Find(DicomTags.PatientID.JsonKey()),
            ["PatientName"] = Find(DicomTags.PatientName.JsonKey()),
            ["PatientBirthDate"] = Find(DicomTags.PatientBirthDate.JsonKey()),
            ["PatientSex"] = Find(DicomTags.PatientSex.JsonKey()),
            ["MedicalAlerts"] = Find(DicomTags.MedicalAlerts.JsonKey()),
            ["AdmissionID"] = Find(DicomTags.AdmissionID.JsonKey()),
            ["CurrentPatientLocation"] = Find(DicomTags.CurrentPatientLocation.JsonKey()),
            ["PatientState"] = Find(DicomTags.PatientState.JsonKey()),
            ["ReferringPhysicianName"] = Find(DicomTags.ReferringPhysicianName.JsonKey()),
            ["StudyInstanceUID"] = Find(DicomTags.StudyInstanceUID.JsonKey(), request),
            ["AccessionNumber"] = Find(DicomTags.AccessionNumber.JsonKey(), request),
            ["RequestingPhysician"] = Find(DicomTags.RequestingPhysician.JsonKey(), request),
            ["RequestedProcedureDescription"] = Find(DicomTags.RequestedProcedureDescription.JsonKey(), request),
            ["RequestedProcedureID"] = Find(DicomTags.RequestedProcedureID.JsonKey(), request),
            ["PlacerOrderNumberImagingServiceRequest"] = Find(DicomTags.PlacerOrderNumberImagingServiceRequest.JsonKey(), request),
            ["Modality"] = Find(DicomTags.Modality.JsonKey(), step),
            ["ScheduledStationAETitle"] = Find(DicomTags.ScheduledStationAETitle.JsonKey(), step),
            ["ScheduledStationName"] = Find(DicomTags.ScheduledStationName.JsonKey(), step),
            ["ScheduledPerformingPhysiciansName"] = Find(DicomTags.ScheduledPerformingPhysicianName.JsonKey(), step),
            ["ScheduledProcedureStepID"] = Find(DicomTags.ScheduledProcedureStepID.JsonKey(), step),
            ["ScheduledProcedureStepDescription"] = Find(DicomTags.ProcedureStepLabel.JsonKey()) ?? Find(DicomTags.ScheduledProcedureStepDescription.JsonKey(), step),
        };

        if (Find(DicomTags.ScheduledProcedureStepStartDateTime.JsonKey()) is { Length: >= 8 } start)
        {
            fields["ScheduledProcedureStepStartDate"] = start[..8];
            var time = new string(start[8..].TakeWhile(char.IsAsciiDigit).ToArray());
            fields["ScheduledProcedureStepStartTime"] = time.Length == 0 ? "000000" : time;
        }
        else
        {
            fields["ScheduledProcedureStepStartDate"] = Find(DicomTags.ScheduledProcedureStepStartDate.JsonKey(), step);
            fields["ScheduledProcedureStepStartTime"] = Find(DicomTags.ScheduledProcedureStepStartTime.JsonKey(), step);
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
