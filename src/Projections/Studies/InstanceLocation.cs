using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Studies;

/// <summary>
/// Where an instance's bytes are, as retrieval (WADO-RS and the dialects' downloads) needs it: one small
/// document per SOP instance and tenant, projected inline so an instance is retrievable when its store
/// returns. The query attributes and the DICOM JSON live in the QIDO records.
/// </summary>
public sealed record InstanceLocation
{
    public string Id { get; init; } = "";
    public string StudyInstanceUid { get; init; } = "";
    public string SeriesInstanceUid { get; init; } = "";
    public string SopClassUid { get; init; } = "";
    public string TransferSyntaxUid { get; init; } = "";
    public string Sha256 { get; init; } = "";
    public long Length { get; init; }

    /// <summary>Instance Number (0020,0013), for a stable retrieval order within a series; null when absent or not a number.</summary>
    public long? InstanceNumber { get; init; }

    public DateTimeOffset StoredAt { get; init; }
}

/// <summary>The location documents: one per SOP Instance UID and tenant (written by <see cref="InstanceRecordsProjection"/>).</summary>
public static class InstanceLocations
{
    public static InstanceLocation From(StoredInstance instance, DateTimeOffset at) => new()
    {
        Id = instance.SopInstanceUid,
        StudyInstanceUid = instance.StudyInstanceUid,
        SeriesInstanceUid = instance.SeriesInstanceUid,
        SopClassUid = instance.SopClassUid,
        TransferSyntaxUid = instance.TransferSyntaxUid,
        Sha256 = instance.Blob.Sha256,
        Length = instance.Blob.Length,
        InstanceNumber = InstanceNumberOf(instance),
        StoredAt = at,
    };

    /// <summary>IS value of (0020,0013) in the DICOM JSON header: a JSON number, or a string when it did not fit one (PS3.18 §F.2.3).</summary>
    private static long? InstanceNumberOf(StoredInstance instance) =>
        instance.Header.TryGetProperty(Tags.InstanceNumber, out var attribute)
        && attribute.TryGetProperty("Value", out var values)
        && values.GetArrayLength() > 0
            ? values[0].ValueKind switch
            {
                System.Text.Json.JsonValueKind.Number when values[0].TryGetInt64(out var n) => n,
                System.Text.Json.JsonValueKind.String when long.TryParse(values[0].GetString(), out var s) => s,
                _ => null,
            }
            : null;
}
