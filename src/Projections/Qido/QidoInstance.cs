using System.Text.Json;
using System.Text.Json.Serialization;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Qido;

/// <summary>
/// An instance: its identifying attributes, and where its DICOM JSON is in the log (<see cref="HeaderEvent"/>,
/// <see cref="HeaderPath"/>): the header is not stored in the document but read from the event that gave it
/// (<see cref="QidoInstanceHeaders"/>), so a read that needs it gets it in <see cref="Header"/>.
/// </summary>
public sealed record QidoInstance
{
    public Guid Id { get; init; }
    public Guid StudyKey { get; init; }
    public Guid SeriesKey { get; init; }
    public required string StudyInstanceUid { get; init; }
    public required string SeriesInstanceUid { get; init; }
    public required string SopInstanceUid { get; init; }
    public required string SopClassUid { get; init; }
    public int? InstanceNumber { get; init; }
    public required string TransferSyntaxUid { get; init; }
    public required BlobRef Blob { get; init; }
    public IngestChannel Channel { get; init; }
    public string? CallingAeTitle { get; init; }
    public string? StationName { get; init; }
    public DateTimeOffset StoredAt { get; init; }

    /// <summary>The previous SHA-256 when this instance replaced other bytes.</summary>
    public string? ReplacedSha256 { get; init; }

    /// <summary>The id of the event whose instance this document is (stored, replaced, erased, restored, moved in).</summary>
    public Guid HeaderEvent { get; init; }

    /// <summary>
    /// The instance's header inside that event's data as a PostgreSQL path (<c>{Restored,3,Instance,Header}</c>
    /// for a child of a lifecycle event); null for the event's own <c>Instance.Header</c>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? HeaderPath { get; init; }

    /// <summary>
    /// The instance's DICOM JSON (PS3.18 Annex F, bulk data excluded) as the event holds it: never stored in
    /// the document (its default is not written), filled in by the reads that need it (<see cref="QidoInstanceHeaders"/>).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public JsonElement Header { get; init; }
}

/// <summary>Where an instance's header is in the log: an event's id and the path inside its data (null: <c>Instance.Header</c>).</summary>
public readonly record struct HeaderAt(Guid Event, string? Path)
{
    /// <summary>The <paramref name="index"/>-th member of the event's list <paramref name="member"/> (e.g. <c>Restored</c>).</summary>
    public static HeaderAt Child(Guid @event, string member, int index) =>
        new(@event, $"{{{member},{index.ToString(System.Globalization.CultureInfo.InvariantCulture)},Instance,Header}}");
}

/// <summary>The instance documents: one per (study stream, SOPInstanceUID); a replacement overwrites it (written by <see cref="Studies.InstanceRecordsProjection"/>).</summary>
public static class QidoInstances
{
    public static QidoInstance From(Guid studyStreamId, StoredInstance instance, HeaderAt header, DateTimeOffset at, string? replacedSha256) => new()
    {
        Id = QidoKeys.Instance(studyStreamId, instance.SopInstanceUid),
        StudyKey = studyStreamId,
        SeriesKey = QidoKeys.Series(studyStreamId, instance.SeriesInstanceUid),
        StudyInstanceUid = instance.StudyInstanceUid,
        SeriesInstanceUid = instance.SeriesInstanceUid,
        SopInstanceUid = instance.SopInstanceUid,
        SopClassUid = instance.SopClassUid,
        InstanceNumber = QidoAttributes.Integer(instance.Header, Tags.InstanceNumber),
        TransferSyntaxUid = instance.TransferSyntaxUid,
        Blob = instance.Blob,
        Channel = instance.Channel,
        CallingAeTitle = instance.CallingAeTitle,
        StationName = instance.StationName,
        StoredAt = at,
        ReplacedSha256 = replacedSha256,
        HeaderEvent = header.Event,
        HeaderPath = header.Path,
    };
}
