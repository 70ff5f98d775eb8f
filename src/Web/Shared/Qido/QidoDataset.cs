using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourced.Dicom;
using EventSourced.Projections.Qido;

namespace EventSourced.Web.Shared.Qido;

/// <summary>One result's DICOM JSON object (PS3.18 Annex F), attributes in tag order.</summary>
public sealed class QidoDataset
{
    /// <summary>Study return attributes, PS3.18 Table 10.6.3-3 (StudyDescription added: every viewer asks for it).</summary>
    public static readonly string[] StudyRequired =
        JsonKeys(DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.AccessionNumber, DicomTags.ReferringPhysicianName, DicomTags.StudyDescription, DicomTags.PatientName, DicomTags.PatientID, DicomTags.PatientBirthDate, DicomTags.PatientSex, DicomTags.StudyInstanceUID, DicomTags.StudyID);

    /// <summary>Series return attributes, PS3.18 Table 10.6.3-4 (StudyInstanceUID added so results of /series can be followed).</summary>
    public static readonly string[] SeriesRequired = JsonKeys(DicomTags.Modality, DicomTags.SeriesDescription, DicomTags.StudyInstanceUID, DicomTags.SeriesInstanceUID, DicomTags.SeriesNumber, DicomTags.PerformedProcedureStepStartDate, DicomTags.PerformedProcedureStepStartTime);

    /// <summary>Instance return attributes, PS3.18 Table 10.6.3-5 (Study and Series Instance UIDs added).</summary>
    public static readonly string[] InstanceRequired = JsonKeys(DicomTags.SOPClassUID, DicomTags.SOPInstanceUID, DicomTags.StudyInstanceUID, DicomTags.SeriesInstanceUID, DicomTags.InstanceNumber);

    /// <summary>Returned only when the instance has them (Table 10.6.3-x: "if present" / only meaningful for some objects).</summary>
    public static readonly string[] IfPresent = JsonKeys(DicomTags.SpecificCharacterSet, DicomTags.TimezoneOffsetFromUTC, DicomTags.RequestAttributesSequence, DicomTags.Rows, DicomTags.Columns, DicomTags.BitsAllocated, DicomTags.NumberOfFrames);

    /// <summary>Pixel Data, Float and Double Float Pixel Data, and Data Set Trailing Padding: never returned.</summary>
    private static readonly string[] BulkData = JsonKeys(DicomTags.PixelData, DicomTags.FloatPixelData, DicomTags.DoubleFloatPixelData, DicomTags.DataSetTrailingPadding);

    private static string[] JsonKeys(params DicomTag[] tags) => [.. tags.Select(t => t.JsonKey())];

    private readonly SortedDictionary<string, JsonNode?> attributes = new(StringComparer.Ordinal);

    /// <summary>Copies each tag of <paramref name="tags"/> from <paramref name="source"/>; absent ones as empty attributes when <paramref name="emptyIfAbsent"/>.</summary>
    public QidoDataset Copy(JsonElement source, IEnumerable<string> tags, bool emptyIfAbsent)
    {
        foreach (var tag in tags)
        {
            if (attributes.ContainsKey(tag))
            {
                continue;
            }

            if (source.ValueKind == JsonValueKind.Object && source.TryGetProperty(tag, out var value))
            {
                // An attribute (a JSON object) is kept as the stored element and written as it is, not parsed again.
                attributes[tag] = value.ValueKind == JsonValueKind.Object ? JsonObject.Create(value) : JsonNode.Parse(value.GetRawText());
            }
            else if (emptyIfAbsent)
            {
                attributes[tag] = JsonObject.Create(EmptyAttribute(DicomVRInfo.Code(QidoKeyCatalog.VROf(tag))));
            }
        }

        return this;
    }

    /// <summary>
    /// Every attribute of the source except bulk data: Pixel Data, Data Set Trailing Padding, and binary
    /// values the stored header dropped (a binary VR with neither InlineBinary nor BulkDataURI would
    /// read as an empty value, which it is not).
    /// </summary>
    public QidoDataset CopyAll(JsonElement source) =>
        source.ValueKind == JsonValueKind.Object
            ? Copy(source, source.EnumerateObject().Where(p => !IsBulkData(p)).Select(p => p.Name), false)
            : this;

    private static bool IsBulkData(JsonProperty attribute) =>
        BulkData.Contains(attribute.Name)
        || (attribute.Value.ValueKind == JsonValueKind.Object
            && attribute.Value.TryGetProperty("vr", out var vr) && vr.GetString() is "OB" or "OD" or "OF" or "OL" or "OV" or "OW" or "UN"
            && !attribute.Value.TryGetProperty("InlineBinary", out _) && !attribute.Value.TryGetProperty("BulkDataURI", out _));

    public QidoDataset CopyRequired(JsonElement source, IEnumerable<string> required, QidoQuery query) =>
        Copy(source, required, true)
            .Copy(source, IfPresent, false)
            .Copy(source, query.IncludeFields, false);

    public QidoDataset Set(DicomTag tag, string vr, params JsonNode?[] values) => Set(tag.JsonKey(), vr, values);

    /// <summary>
    /// Attributes every answer has alike, each parsed once and shared read-only: a dataset holds a new node over
    /// the element (written as the element is), not a tree of its own.
    /// </summary>
    private static readonly JsonElement OnlineAttribute = JsonDocument.Parse("""{"vr":"CS","Value":["ONLINE"]}""").RootElement;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, JsonElement> EmptyAttributes = new(StringComparer.Ordinal);

    /// <summary>An attribute of <paramref name="vr"/> without a value: <c>{"vr":"…"}</c>.</summary>
    private static JsonElement EmptyAttribute(string vr) =>
        EmptyAttributes.GetOrAdd(vr, code => JsonSerializer.SerializeToElement(new JsonObject { ["vr"] = code }));

    private static readonly string InstanceAvailabilityKey = DicomTags.InstanceAvailability.JsonKey();
    private static readonly string ModalitiesInStudyKey = DicomTags.ModalitiesInStudy.JsonKey();
    private static readonly string NumberOfStudyRelatedSeriesKey = DicomTags.NumberOfStudyRelatedSeries.JsonKey();
    private static readonly string NumberOfStudyRelatedInstancesKey = DicomTags.NumberOfStudyRelatedInstances.JsonKey();
    private static readonly string NumberOfSeriesRelatedInstancesKey = DicomTags.NumberOfSeriesRelatedInstances.JsonKey();
    private static readonly string RetrieveUrlKey = DicomTags.RetrieveURL.JsonKey();

    /// <summary>Instance Availability ONLINE (everything stored is online).</summary>
    private QidoDataset Online(string tag)
    {
        attributes[tag] = JsonObject.Create(OnlineAttribute);
        return this;
    }

    public QidoDataset Set(string tag, string vr, params JsonNode?[] values)
    {
        var attribute = new JsonObject { ["vr"] = vr };
        if (values.Length > 0)
        {
            attribute["Value"] = new JsonArray(values);
        }

        attributes[tag] = attribute;
        return this;
    }

    /// <summary>Study attributes computed over the study's instances, plus availability and where to retrieve it.</summary>
    public QidoDataset StudyComputed(QidoStudySummary study, string? retrieveUrl)
    {
        Online(InstanceAvailabilityKey)
            .Set(ModalitiesInStudyKey, "CS", [.. study.ModalitiesInStudy.Select(m => (JsonNode?)m)])
            .Set(NumberOfStudyRelatedSeriesKey, "IS", study.NumberOfStudyRelatedSeries)
            .Set(NumberOfStudyRelatedInstancesKey, "IS", study.NumberOfStudyRelatedInstances);
        return retrieveUrl is null ? this : Set(RetrieveUrlKey, "UR", retrieveUrl);
    }

    public QidoDataset SeriesComputed(QidoSeries series, string? retrieveUrl)
    {
        Set(NumberOfSeriesRelatedInstancesKey, "IS", series.NumberOfSeriesRelatedInstances);
        return retrieveUrl is null ? this : Set(RetrieveUrlKey, "UR", retrieveUrl);
    }

    public QidoDataset InstanceComputed(string retrieveUrl) => Online(InstanceAvailabilityKey)
        .Set(RetrieveUrlKey, "UR", retrieveUrl);

    /// <summary>The attributes in tag order, as one object (sized once: it is built from a collection of known count).</summary>
    public JsonObject ToJson() => new(attributes);

}
