using System.Text.Json;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Dicom;

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
            Attribute(writer, DicomTags.RetrieveURL, "UR", studyRetrieveUrl);
        }

        if (failed.Count > 0)
        {
            Sequence(writer, DicomTags.FailedSOPSequence, failed, item =>
            {
                Attribute(writer, DicomTags.ReferencedSOPClassUID, "UI", item.SopClass);
                Attribute(writer, DicomTags.ReferencedSOPInstanceUID, "UI", item.SopInstance);
                writer.WriteStartObject(DicomTags.FailureReason.JsonKey());
                writer.WriteString("vr", "US");
                writer.WriteStartArray("Value");
                writer.WriteNumberValue(item.Reason);
                writer.WriteEndArray();
                writer.WriteEndObject();
            });
        }

        if (referenced.Count > 0)
        {
            Sequence(writer, DicomTags.ReferencedSOPSequence, referenced, item =>
            {
                Attribute(writer, DicomTags.ReferencedSOPClassUID, "UI", item.SopClass);
                Attribute(writer, DicomTags.ReferencedSOPInstanceUID, "UI", item.SopInstance);
                Attribute(writer, DicomTags.RetrieveURL, "UR", item.RetrieveUrl);
                if (item.Warning is { } warning)
                {
                    writer.WriteStartObject(DicomTags.WarningReason.JsonKey());
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

    private static void Sequence<T>(Utf8JsonWriter writer, DicomTag tag, List<T> items, Action<T> writeItem)
    {
        writer.WriteStartObject(tag.JsonKey());
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

    private static void Attribute(Utf8JsonWriter writer, DicomTag tag, string vr, string? value)
    {
        writer.WriteStartObject(tag.JsonKey());
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
