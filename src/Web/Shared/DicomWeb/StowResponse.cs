using System.Text.Json;
using EventSourced.Application.Ingestion.ReceivingInstances;

namespace EventSourced.Web.Shared.DicomWeb;

/// <summary>The STOW-RS response data set (PS3.18 §10.5.3, Table 10.5.3-1), written as DICOM JSON.</summary>
public sealed class StowResponse
{
    private readonly List<(string SopClass, string SopInstance, string RetrieveUrl, ushort? Warning)> referenced = [];
    private readonly List<(string? SopClass, string? SopInstance, ushort Reason)> failed = [];

    public int Stored => referenced.Count;

    public int Failed => failed.Count;

    public IEnumerable<ushort> FailureReasons => failed.Select(f => f.Reason);

    public void AddStored(string sopClass, string sopInstance, string retrieveUrl, ushort? warning = null) =>
        referenced.Add((sopClass, sopInstance, retrieveUrl, warning));

    public void AddFailed(ReceiveFailure failure) => failed.Add((failure.SopClassUid, failure.SopInstanceUid, failure.Reason));

    /// <summary>200 all stored, 202 some stored, 409 none stored (PS3.18 §10.5.3.1).</summary>
    public int StatusCode => failed.Count == 0 ? StatusCodes.Status200OK : referenced.Count > 0 ? StatusCodes.Status202Accepted : StatusCodes.Status409Conflict;

    public void Write(Utf8JsonWriter writer, string? studyRetrieveUrl)
    {
        writer.WriteStartObject();
        if (studyRetrieveUrl is not null)
        {
            Attribute(writer, "00081190", "UR", studyRetrieveUrl); // Retrieve URL
        }

        if (failed.Count > 0)
        {
            Sequence(writer, "00081198", failed, item => // Failed SOP Sequence
            {
                Attribute(writer, "00081150", "UI", item.SopClass);
                Attribute(writer, "00081155", "UI", item.SopInstance);
                writer.WriteStartObject("00081197"); // Failure Reason
                writer.WriteString("vr", "US");
                writer.WriteStartArray("Value");
                writer.WriteNumberValue(item.Reason);
                writer.WriteEndArray();
                writer.WriteEndObject();
            });
        }

        if (referenced.Count > 0)
        {
            Sequence(writer, "00081199", referenced, item => // Referenced SOP Sequence
            {
                Attribute(writer, "00081150", "UI", item.SopClass);
                Attribute(writer, "00081155", "UI", item.SopInstance);
                Attribute(writer, "00081190", "UR", item.RetrieveUrl);
                if (item.Warning is { } warning)
                {
                    writer.WriteStartObject("00081196"); // Warning Reason
                    writer.WriteString("vr", "US");
                    writer.WriteStartArray("Value");
                    writer.WriteNumberValue(warning);
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }
            });
        }

        writer.WriteEndObject();
    }

    private static void Sequence<T>(Utf8JsonWriter writer, string tag, List<T> items, Action<T> writeItem)
    {
        writer.WriteStartObject(tag);
        writer.WriteString("vr", "SQ");
        writer.WriteStartArray("Value");
        foreach (var item in items)
        {
            writer.WriteStartObject();
            writeItem(item);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void Attribute(Utf8JsonWriter writer, string tag, string vr, string? value)
    {
        writer.WriteStartObject(tag);
        writer.WriteString("vr", vr);
        if (!string.IsNullOrEmpty(value))
        {
            writer.WriteStartArray("Value");
            writer.WriteStringValue(value);
            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }
}
