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
        ["00080020", "00080030", "00080050", "00080090", "00081030", "00100010", "00100020", "00100030", "00100040", "0020000D", "00200010"];

    /// <summary>Series return attributes, PS3.18 Table 10.6.3-4 (StudyInstanceUID added so results of /series can be followed).</summary>
    public static readonly string[] SeriesRequired = ["00080060", "0008103E", "0020000D", "0020000E", "00200011", "00400244", "00400245"];

    /// <summary>Instance return attributes, PS3.18 Table 10.6.3-5 (Study and Series Instance UIDs added).</summary>
    public static readonly string[] InstanceRequired = ["00080016", "00080018", "0020000D", "0020000E", "00200013"];

    /// <summary>Returned only when the instance has them (Table 10.6.3-x: "if present" / only meaningful for some objects).</summary>
    public static readonly string[] IfPresent = ["00080005", "00080201", "00400275", "00280010", "00280011", "00280100", "00280008"];

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
                attributes[tag] = JsonNode.Parse(value.GetRawText());
            }
            else if (emptyIfAbsent)
            {
                attributes[tag] = new JsonObject { ["vr"] = DicomVRInfo.Code(QidoKeyCatalog.VROf(tag)) };
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
        attribute.Name is "7FE00010" or "7FE00008" or "7FE00009" or "FFFCFFFC"
        || (attribute.Value.ValueKind == JsonValueKind.Object
            && attribute.Value.TryGetProperty("vr", out var vr) && vr.GetString() is "OB" or "OD" or "OF" or "OL" or "OV" or "OW" or "UN"
            && !attribute.Value.TryGetProperty("InlineBinary", out _) && !attribute.Value.TryGetProperty("BulkDataURI", out _));

    public QidoDataset CopyRequired(JsonElement source, IEnumerable<string> required, QidoQuery query) =>
        Copy(source, required, true)
            .Copy(source, IfPresent, false)
            .Copy(source, query.IncludeFields, false);

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
    public QidoDataset StudyComputed(QidoStudy study, string? retrieveUrl)
    {
        Set("00080056", "CS", "ONLINE")
            .Set("00080061", "CS", [.. study.ModalitiesInStudy.Select(m => (JsonNode?)m)])
            .Set("00201206", "IS", study.NumberOfStudyRelatedSeries)
            .Set("00201208", "IS", study.NumberOfStudyRelatedInstances);
        return retrieveUrl is null ? this : Set("00081190", "UR", retrieveUrl);
    }

    public QidoDataset SeriesComputed(QidoSeries series, string? retrieveUrl)
    {
        Set("00201209", "IS", series.NumberOfSeriesRelatedInstances);
        return retrieveUrl is null ? this : Set("00081190", "UR", retrieveUrl);
    }

    public QidoDataset InstanceComputed(string retrieveUrl) => this
        .Set("00080056", "CS", "ONLINE")
        .Set("00081190", "UR", retrieveUrl);

    public JsonObject ToJson()
    {
        var json = new JsonObject();
        foreach (var (tag, value) in attributes)
        {
            json[tag] = value;
        }

        return json;
    }

}
