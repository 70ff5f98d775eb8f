using System.Text.Json;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Studies;

// Events of the study stream (key: name-based Guid of tenant + StudyInstanceUID, see Study.StreamId).
// They carry what a later reader needs without opening a blob: the instance's whole DICOM JSON header
// (PS3.18 Annex F, bulk data excluded), so a new query attribute is a projection rebuild, not a re-read. The header is
// stored as one JSON string (HeaderTextConverter) and parsed only when read (InstanceHeader); events written before hold
// it as an object and read alike.

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
    InstanceHeader Header,
    BlobRef Blob,
    IngestChannel Channel,
    string? CallingAeTitle,
    string? StationName)
{
    /// <summary>
    /// The instance with its header de-identified by the Basic Application Level Confidentiality Profile
    /// (PS3.15 Annex E, <see cref="ConfidentialityProfile"/>): the masking rule of an erasure request.
    /// </summary>
    public StoredInstance WithPersonalDataErased() => this with { Header = ConfidentialityProfile.Apply(Header) };
}

public sealed record InstanceStored(Guid StudyStreamId, StoredInstance Instance, Actor StoredBy, DateTimeOffset StoredAt)
{
    /// <summary>
    /// The archive of document d the instance was filed in as it was stored (every channel files a new
    /// instance into one, by the same actor at the same time): one event row instead of an
    /// <see cref="Archive.InstanceFiledInArchive"/> beside it. Null in events written before, which have that
    /// event beside them, and when the instance was not filed.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Archive.InstanceFiling? FiledIn { get; init; }

    /// <summary>The filing this event carries, as the <see cref="Archive.InstanceFiledInArchive"/> it stands for; empty when none.</summary>
    public IReadOnlyList<Archive.InstanceFiledInArchive> Filings() => FiledIn is { } f
        ? [new Archive.InstanceFiledInArchive(
            StudyStreamId, f.Project, f.Archive, f.PatientId, Instance.StudyInstanceUid, Instance.SeriesInstanceUid,
            Instance.SopInstanceUid, Instance.SopClassUid,
            Archive.RetinaSopClasses.ArchiveSeriesUid(Instance.SopClassUid, Instance.SeriesInstanceUid, Instance.SopInstanceUid),
            StoredBy, StoredAt)]
        : [];

    /// <summary>
    /// This event carrying <paramref name="filed"/>, or null when the filing is not the one of this store
    /// (another instance, actor or time): then it is appended as its own event.
    /// </summary>
    public InstanceStored? Carrying(Archive.InstanceFiledInArchive filed)
    {
        var carrying = this with { FiledIn = new Archive.InstanceFiling(filed.Project, filed.Archive, filed.PatientId) };
        return carrying.Filings()[0] == filed ? carrying : null;
    }

    /// <summary>The instance's header and its filing's patient de-identified: the masking rule of an erasure request.</summary>
    public InstanceStored WithPersonalDataErased() => this with { Instance = Instance.WithPersonalDataErased(), FiledIn = FiledIn?.WithPersonalDataErased() };
}

/// <summary>
/// New SOP instances of the study stored by one request, by the same actor at the same moment and filed alike: one
/// event for what would be as many <see cref="InstanceStored"/> (docs/architecture.md, "One event per request's
/// instances"). The headers of one request's instances are nearly the same (patient, study, series), and PostgreSQL
/// compresses a row alone: one row of them weighs about a fifth of their rows. Every reader takes it as its
/// <see cref="Children"/>, in order, each the <see cref="InstanceStored"/> it stands for.
/// </summary>
public sealed record InstancesStored(Guid StudyStreamId, IReadOnlyList<StoredInstance> Instances, Actor StoredBy, DateTimeOffset StoredAt)
{
    /// <summary>The archive of document d every instance was filed in as it was stored; null when they were not filed.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Archive.InstanceFiling? FiledIn { get; init; }

    /// <summary>The <see cref="InstanceStored"/> of each instance, in the order they were stored.</summary>
    public IReadOnlyList<InstanceStored> Children() =>
        [.. Instances.Select(i => new InstanceStored(StudyStreamId, i, StoredBy, StoredAt) { FiledIn = FiledIn })];

    /// <summary>The filings the instances carry, as the <see cref="Archive.InstanceFiledInArchive"/> each stands for; empty when none.</summary>
    public IReadOnlyList<Archive.InstanceFiledInArchive> Filings() => FiledIn is null ? [] : [.. Children().SelectMany(c => c.Filings())];

    /// <summary>The instances' headers de-identified (<see cref="StoredInstance.WithPersonalDataErased"/>): the masking rule of an erasure request.</summary>
    public InstancesStored WithPersonalDataErased() => this with
    {
        Instances = [.. Instances.Select(i => i.WithPersonalDataErased())],
        FiledIn = FiledIn?.WithPersonalDataErased(),
    };

    /// <summary>
    /// The events of a study stream with every <see cref="InstancesStored"/> replaced by its children: what a reader
    /// that folds the stream instance by instance walks.
    /// </summary>
    public static IEnumerable<object> Unbatched(IEnumerable<object> studyEvents)
    {
        foreach (var data in studyEvents)
        {
            if (data is InstancesStored batch)
            {
                foreach (var child in batch.Children())
                {
                    yield return child;
                }
            }
            else
            {
                yield return data;
            }
        }
    }

    /// <summary>
    /// <paramref name="stored"/> (one request's new instances of a study, in order) as the events to append: runs of
    /// instances stored by the same actor at the same moment and filed alike become one <see cref="InstancesStored"/>;
    /// a run of one stays an <see cref="InstanceStored"/>.
    /// </summary>
    public static IEnumerable<object> Batched(IReadOnlyList<InstanceStored> stored)
    {
        var start = 0;
        for (var i = 1; i <= stored.Count; i++)
        {
            if (i < stored.Count && Together(stored[start], stored[i]))
            {
                continue;
            }

            yield return i - start == 1
                ? stored[start]
                : new InstancesStored(stored[start].StudyStreamId, [.. stored.Skip(start).Take(i - start).Select(s => s.Instance)], stored[start].StoredBy, stored[start].StoredAt)
                {
                    FiledIn = stored[start].FiledIn,
                };
            start = i;
        }
    }

    private static bool Together(InstanceStored a, InstanceStored b) =>
        a.StudyStreamId == b.StudyStreamId && a.StoredBy == b.StoredBy && a.StoredAt == b.StoredAt && a.FiledIn == b.FiledIn;
}

/// <summary>Different bytes for a stored SOP Instance UID within the replace window: the new bytes win, the old hash is kept here.</summary>
public sealed record InstanceReplaced(Guid StudyStreamId, StoredInstance Instance, string PreviousSha256, Actor ReplacedBy, DateTimeOffset ReplacedAt);

/// <summary>
/// An erasure request rewrote the instance's bytes without the patient's personal data (PS3.15 Annex E
/// basic profile, UIDs kept): <see cref="StoredInstance.Blob"/> is the rewritten blob, its header the
/// rewritten file's; the blob of <paramref name="PreviousSha256"/> is deleted. <paramref name="Archives"/>:
/// the document d archives the instance is filed in (their records lose the PatientID too). Carries no
/// erased value.
/// </summary>
public sealed record InstanceErased(
    Guid StudyStreamId, StoredInstance Instance, string PreviousSha256, IReadOnlyList<Archive.ArchivePlacement> Archives, Guid ErasureId, Actor ErasedBy, DateTimeOffset ErasedAt)
{
    /// <summary>Document d's name of the instance's series (the SOP Instance UID for the retina SOP classes).</summary>
    public string ArchiveSeriesUid => Archive.RetinaSopClasses.All.Contains(Instance.SopClassUid) ? Instance.SopInstanceUid : Instance.SeriesInstanceUid;
}
