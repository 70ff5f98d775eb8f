using System.Text.Json;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Qido;

/// <summary>An instance: its identifying attributes and its whole DICOM JSON (for metadata retrieval).</summary>
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

    /// <summary>Null, and not written into the document, when the sender named none (the record's members that are mostly null are left out).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? CallingAeTitle { get; init; }

    public string? StationName { get; init; }
    public DateTimeOffset StoredAt { get; init; }

    /// <summary>The previous SHA-256 when this instance replaced other bytes; null, and not written into the document, otherwise.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? ReplacedSha256 { get; init; }

    /// <summary>
    /// Container Identifier (0040,0512) of its header, trimmed: the slide's barcode document e looks slides up by, a
    /// column under a partial index (QidoRegistration). Null, and not written into the document, for the instances
    /// that have none (all but whole slide and specimen images).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? ContainerIdentifier { get; init; }

    /// <summary>
    /// The instance's DICOM JSON (PS3.18 Annex F, bulk data excluded), as stored in the event: one JSON string in the
    /// document, as in the event (<see cref="HeaderTextConverter"/>), so SQL reads it with <c>data -&gt;&gt; 'Header'</c>
    /// (<see cref="HeaderText"/>); records written before hold an object, which reads alike (docs/architecture.md,
    /// "Instance records: the header as text").
    /// </summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(HeaderTextConverter))]
    public JsonElement Header { get; init; }

    /// <summary>
    /// SQL: the header's JSON text of the record aliased <paramref name="alias"/>, whichever form it is stored in
    /// (<c>-&gt;&gt;</c> gives a string's text and an object's JSON alike).
    /// </summary>
    public static string HeaderText(string alias) => $"{alias}.data ->> '{nameof(Header)}'";

    /// <summary>SQL: the header as <c>jsonb</c>, for matching on an attribute without a column of its own.</summary>
    public static string HeaderJson(string alias) => $"({HeaderText(alias)})::jsonb";
}

/// <summary>The instance documents: one per (study stream, SOPInstanceUID); a replacement overwrites it (written by <see cref="Studies.InstanceRecordsProjection"/>).</summary>
public static class QidoInstances
{
    public static QidoInstance From(Guid studyStreamId, StoredInstance instance, DateTimeOffset at, string? replacedSha256) => new()
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
        ContainerIdentifier = QidoAttributes.First(instance.Header, Tags.ContainerIdentifier),
        Header = instance.Header,
    };
}
