using System.Text.Json;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Domain.Archive;

// Document d (archive API v1) scopes its data by Project and Archive: an instance uploaded under a
// project and archive is visible through /api/v1 only there. The filing is a fact of the study stream,
// appended in the same transaction as the InstanceStored it follows (docs/architecture.md, "Document d").

/// <summary>Where document d files an instance: the Project and Archive parameters of its upload.</summary>
public sealed record ArchivePlacement(string Project, string Archive)
{
    /// <summary>The longest Project or Archive name accepted.</summary>
    public const int MaxLength = 128;

    /// <summary>A name is 1 to 128 characters without control characters (it becomes part of document keys).</summary>
    public static bool IsValidName(string? name) =>
        !string.IsNullOrWhiteSpace(name) && name.Length <= MaxLength && !name.Any(char.IsControl);

    /// <summary>The key of this placement inside a study (project and archive joined by a separator neither may contain).</summary>
    public string Key => Project + "\n" + Archive;
}

/// <summary>
/// An instance of the study was filed into a project's archive. <paramref name="ArchiveSeriesUid"/> is the
/// series as document d names it: the SeriesInstanceUID, or the SOPInstanceUID for the retina SOP
/// classes (<see cref="RetinaSopClasses"/>).
/// </summary>
public sealed record InstanceFiledInArchive(
    Guid StudyStreamId,
    string Project,
    string Archive,
    string PatientId,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string SopInstanceUid,
    string SopClassUid,
    string ArchiveSeriesUid,
    Actor FiledBy,
    DateTimeOffset FiledAt)
{
    public InstanceFiledInArchive WithPersonalDataErased() => this with { PatientId = Orders.OrderDetails.Erased };
}

/// <summary>
/// The part of an <see cref="InstanceFiledInArchive"/> that an <see cref="Studies.InstanceStored"/> carrying it does not
/// already hold: the placement and the PatientID it was filed under (trimmed, as the decision read it).
/// </summary>
public sealed record InstanceFiling(string Project, string Archive, string PatientId)
{
    public InstanceFiling WithPersonalDataErased() => this with { PatientId = Orders.OrderDetails.Erased };
}

/// <summary>
/// Document d: "Api calls related to retina do not use the SeriesInstanceUID of the file for the
/// SeriesInstanceUID. Instead, the SOPInstanceUID of the file … is used." Which files are "retina" the
/// document leaves open; ours: the ophthalmic image storage SOP classes of PS3.4 Annex B (photography,
/// tomography, wide field, OCT en face and B-scan volume analysis, thickness map). Each such instance is a
/// series of its own in document d.
/// </summary>
public static class RetinaSopClasses
{
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        "1.2.840.10008.5.1.4.1.1.77.1.5.1", // Ophthalmic Photography 8 Bit Image Storage
        "1.2.840.10008.5.1.4.1.1.77.1.5.2", // Ophthalmic Photography 16 Bit Image Storage
        "1.2.840.10008.5.1.4.1.1.77.1.5.4", // Ophthalmic Tomography Image Storage
        "1.2.840.10008.5.1.4.1.1.77.1.5.5", // Wide Field Ophthalmic Photography Stereographic Projection Image Storage
        "1.2.840.10008.5.1.4.1.1.77.1.5.6", // Wide Field Ophthalmic Photography 3D Coordinates Image Storage
        "1.2.840.10008.5.1.4.1.1.77.1.5.7", // Ophthalmic Optical Coherence Tomography En Face Image Storage
        "1.2.840.10008.5.1.4.1.1.77.1.5.8", // Ophthalmic Optical Coherence Tomography B-scan Volume Analysis Storage
        "1.2.840.10008.5.1.4.1.1.81.1",     // Ophthalmic Thickness Map Storage
    };

    public static bool Contains(string sopClassUid) => All.Contains(sopClassUid);

    /// <summary>The series key document d uses for an instance.</summary>
    public static string ArchiveSeriesUid(string sopClassUid, string seriesInstanceUid, string sopInstanceUid) =>
        Contains(sopClassUid) ? sopInstanceUid : seriesInstanceUid;
}

/// <summary>What the study knows of one archive it is filed in: the patient it is filed under, and which instances.</summary>
public sealed record ArchiveFiling(
    string PatientId,
    System.Collections.Immutable.ImmutableHashSet<string> SopInstanceUids,
    System.Collections.Immutable.ImmutableHashSet<string> SeriesKeys);

public sealed record FilingDecision(InstanceFiledInArchive? Event, Rejection? Rejection);

public static class ArchiveDecisions
{
    /// <summary>
    /// File a stored instance into an archive. Idempotent: an instance already filed there gives no event.
    /// Refused: an instance without PatientID (document d finds everything by PatientID), and an instance
    /// whose PatientID differs from the patient its study is already filed under in that archive (a study
    /// belongs to one patient).
    /// </summary>
    public static FilingDecision File(
        Study study, ArchivePlacement placement, StoredInstance instance, Actor by, DateTimeOffset now)
    {
        var patientId = PatientIdOf(instance.Header);
        if (patientId is null)
        {
            return new(null, Rejection.Invalid("The file has no PatientID (0010,0020); the archive files instances by patient."));
        }

        if (study.Archives.TryGetValue(placement.Key, out var filing))
        {
            if (filing.PatientId != patientId)
            {
                return new(null, Rejection.Conflict(
                    $"Study {instance.StudyInstanceUid} is filed in this archive under another PatientID than '{patientId}'."));
            }

            if (filing.SopInstanceUids.Contains(instance.SopInstanceUid))
            {
                return new(null, null);
            }
        }

        return new(new InstanceFiledInArchive(
            study.Id, placement.Project, placement.Archive, patientId, instance.StudyInstanceUid, instance.SeriesInstanceUid,
            instance.SopInstanceUid, instance.SopClassUid,
            RetinaSopClasses.ArchiveSeriesUid(instance.SopClassUid, instance.SeriesInstanceUid, instance.SopInstanceUid),
            by, now), null);
    }

    /// <summary>PatientID (0010,0020) of a DICOM JSON header, trimmed; null when absent or empty.</summary>
    public static string? PatientIdOf(JsonElement header) =>
        header.ValueKind == JsonValueKind.Object
        && header.TryGetProperty(Tags.PatientID, out var attribute)
        && attribute.TryGetProperty("Value", out var values)
        && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0
        && values[0].ValueKind == JsonValueKind.String
        && values[0].GetString()?.Trim() is { Length: > 0 } id
            ? id
            : null;
}
