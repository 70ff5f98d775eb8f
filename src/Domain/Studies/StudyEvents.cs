using System.Text.Json;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Studies;

// Events of the study stream (key: name-based Guid of tenant + StudyInstanceUID, see Study.StreamId).
// They carry what a later reader needs without opening a blob: the instance's whole DICOM JSON header
// (PS3.18 Annex F, bulk data excluded), so a new query attribute is a projection rebuild, not a re-read.

/// <summary>How an instance reached us.</summary>
public enum IngestChannel
{
    StowRs,
    ExamsUpload,
    ArchiveUpload,
    PresignedPut,

    /// <summary>Built by the archive itself (a Key Object Selection Document: a rejection note, a manifest).</summary>
    Generated,

    /// <summary>Document e's digital pathology storage: an SM instance made from the sender's metadata or sidecar.</summary>
    PathologyUpload,
}

/// <summary>A blob as stored: content address (SHA-256), SHA-1, and size in bytes.</summary>
public sealed record BlobRef(string Sha256, string Sha1, long Length);

public sealed record StoredInstance(
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string SopInstanceUid,
    string SopClassUid,
    string TransferSyntaxUid,
    JsonElement Header,
    BlobRef Blob,
    IngestChannel Channel,
    string? CallingAeTitle,
    string? StationName)
{
    /// <summary>
    /// Attributes that identify the patient (the Patient module of PS3.3 C.7.1.1 and its common
    /// companions), removed from the stored header on an erasure request. A start: the patient slice
    /// brings the full basic profile of PS3.15 Annex E.
    /// </summary>
    public static readonly IReadOnlySet<string> PatientIdentifyingTags = new HashSet<string>
    {
        Tags.PatientName, Tags.PatientID, Tags.IssuerOfPatientID, Tags.PatientBirthDate, Tags.PatientBirthTime,
        Tags.PatientSex, Tags.OtherPatientIDs, Tags.OtherPatientNames, Tags.OtherPatientIDsSequence,
        Tags.PatientBirthName, Tags.PatientAge, Tags.PatientAddress, Tags.PatientMotherBirthName,
        Tags.PatientTelephoneNumbers, Tags.EthnicGroup, Tags.PatientComments, Tags.AdmissionID,
        Tags.PatientInstitutionResidence, Tags.ScheduledPerformingPhysicianName,
    };

    public StoredInstance WithPersonalDataErased()
    {
        var header = System.Text.Json.Nodes.JsonNode.Parse(Header.GetRawText())!.AsObject();
        foreach (var tag in PatientIdentifyingTags)
        {
            header.Remove(tag);
        }

        return this with { Header = JsonSerializer.SerializeToElement(header) };
    }
}

public sealed record InstanceStored(Guid StudyStreamId, StoredInstance Instance, Actor StoredBy, DateTimeOffset StoredAt);

/// <summary>Different bytes for a stored SOP Instance UID within the replace window: the new bytes win, the old hash is kept here.</summary>
public sealed record InstanceReplaced(Guid StudyStreamId, StoredInstance Instance, string PreviousSha256, Actor ReplacedBy, DateTimeOffset ReplacedAt);
