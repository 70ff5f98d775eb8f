using System.Text.Json;
using EventSourced.Dicom;

namespace EventSourced.Web.DicomWeb.Wado;

/// <summary>
/// Adds a BulkDataURI (PS3.18 §F.2.6) to every binary attribute that the stored header left without a value:
/// the header recorded at store time keeps binary values up to 1 KiB inline and drops larger ones (Pixel Data,
/// overlays, curves, LUTs, embedded documents) to their VR. Each such attribute gets the URI of the bulk data
/// route, which reads the value from the stored file (<see cref="FramesModule"/>).
/// </summary>
public static class BulkDataUris
{
    /// <summary>Nesting deeper than this is copied as recorded, without URIs (no real data set nests so deep).</summary>
    private const int MaxDepth = 32;

    /// <summary>
    /// Writes the header with BulkDataURIs; <paramref name="transferSyntax"/>, when given, is added as Available
    /// Transfer Syntax UID (0008,3002), the syntax a viewer can have the pixels in (the SOP Common
    /// attribute of PS3.3 §C.12.1): we never transcode, so it is the stored one.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, JsonElement dataset, string instanceUrl, string? transferSyntax = null) =>
        WriteDataset(writer, dataset, $"{instanceUrl}/bulkdata/", 0, transferSyntax);

    public static bool IsBinary(string? vr) => vr is "OB" or "OW" or "OF" or "OD" or "OL" or "OV" or "UN";

    private static readonly string AvailableTransferSyntaxUid = DicomTags.AvailableTransferSyntaxUID.JsonKey();

    private static void WriteDataset(Utf8JsonWriter writer, JsonElement dataset, string prefix, int depth, string? transferSyntax = null)
    {
        if (dataset.ValueKind != JsonValueKind.Object || depth > MaxDepth)
        {
            dataset.WriteTo(writer);
            return;
        }

        writer.WriteStartObject();
        foreach (var attribute in dataset.EnumerateObject())
        {
            if (transferSyntax is not null && string.CompareOrdinal(attribute.Name, AvailableTransferSyntaxUid) >= 0)
            {
                WriteAvailableTransferSyntax(writer, transferSyntax);
                transferSyntax = null;
                if (attribute.Name == AvailableTransferSyntaxUid)
                {
                    continue;
                }
            }

            var value = attribute.Value;
            var vr = value.ValueKind == JsonValueKind.Object && value.TryGetProperty("vr", out var v) ? v.GetString() : null;
            if (vr == "SQ" && value.TryGetProperty("Value", out var items) && items.ValueKind == JsonValueKind.Array)
            {
                writer.WritePropertyName(attribute.Name);
                writer.WriteStartObject();
                writer.WriteString("vr"u8, "SQ");
                writer.WritePropertyName("Value"u8);
                writer.WriteStartArray();
                var number = 0;
                foreach (var item in items.EnumerateArray())
                {
                    number++;
                    WriteDataset(writer, item, $"{prefix}{attribute.Name}/{number}/", depth + 1);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
                continue;
            }

            if (IsBinary(vr) && !value.TryGetProperty("Value", out _) && !value.TryGetProperty("InlineBinary", out _) && !value.TryGetProperty("BulkDataURI", out _))
            {
                writer.WritePropertyName(attribute.Name);
                writer.WriteStartObject();
                writer.WriteString("vr"u8, vr);
                writer.WriteString("BulkDataURI"u8, prefix + attribute.Name);
                writer.WriteEndObject();
                continue;
            }

            attribute.WriteTo(writer);
        }

        if (transferSyntax is not null)
        {
            WriteAvailableTransferSyntax(writer, transferSyntax);
        }

        writer.WriteEndObject();
    }

    private static void WriteAvailableTransferSyntax(Utf8JsonWriter writer, string transferSyntax)
    {
        writer.WritePropertyName(AvailableTransferSyntaxUid);
        writer.WriteStartObject();
        writer.WriteString("vr"u8, "UI");
        writer.WritePropertyName("Value"u8);
        writer.WriteStartArray();
        writer.WriteStringValue(transferSyntax);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
