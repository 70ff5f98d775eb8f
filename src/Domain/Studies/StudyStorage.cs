using EventSourced.Domain.Common;

namespace EventSourced.Domain.Studies;

/// <summary>The two kinds of storage location (document e, "Study relocation API").</summary>
public enum StorageKind
{
    /// <summary>A local directory (a disk, a mount).</summary>
    PhysicalMedium,

    /// <summary>A bucket on an S3-compatible service.</summary>
    Bucket,
}

/// <summary>A configured storage location, by kind and configured name.</summary>
public sealed record StorageLocation(StorageKind Kind, string Name)
{
    public override string ToString() => $"{(Kind == StorageKind.Bucket ? "bucket" : "physical medium")} '{Name}'";
}

/// <summary>
/// The study's blobs now live at <see cref="To"/>: every blob its instances name was copied there and
/// its hash checked before this event was appended; the copies at <see cref="From"/> are removed after it.
/// </summary>
public sealed record StudyRelocated(
    Guid StudyStreamId,
    string StudyInstanceUid,
    StorageLocation From,
    StorageLocation To,
    int Blobs,
    string Author,
    Actor RelocatedBy,
    DateTimeOffset RelocatedAt);

public enum RelocationRefusal
{
    StudyNotFound,

    /// <summary>Document e: "Relocation from one bucket to another one is not supported".</summary>
    BucketToBucket,
}

public sealed record RelocationDecision(RelocationRefusal? Refused, bool AlreadyThere);

public partial record Study
{
    /// <summary>Where the study's blobs are; null: the local medium every study starts on.</summary>
    public StorageLocation? Location { get; init; }

    public Study Apply(StudyRelocated relocated) => this with { Location = relocated.To };
}

public static class StudyRelocations
{
    /// <summary>
    /// Whether a study at <paramref name="current"/> may move to <paramref name="target"/>: bucket to
    /// another bucket is refused (document e); the same location is no move (the caller finishes a
    /// relocation a crash interrupted, if any, and answers success).
    /// </summary>
    public static RelocationDecision Decide(Study? study, StorageLocation current, StorageLocation target)
    {
        if (study is null)
        {
            return new(RelocationRefusal.StudyNotFound, false);
        }

        if (current == target)
        {
            return new(null, true);
        }

        return current.Kind == StorageKind.Bucket && target.Kind == StorageKind.Bucket
            ? new(RelocationRefusal.BucketToBucket, false)
            : new(null, false);
    }

    /// <summary>
    /// Every blob the study holds, current ones first: what a relocation must carry. Its instances' files
    /// (received, replaced, restored after a delete, rewritten by an erasure, or arrived with a series
    /// refiled in from another study) and its slide files; not the files of series that left for another
    /// study (they go with that study), of an erasure's replaced originals (removed by the erasure) or of
    /// purged deletions (removed by the sweeper).
    /// </summary>
    public static IReadOnlyList<string> BlobsOf(IEnumerable<object> studyEvents)
    {
        var current = new Dictionary<string, string>(StringComparer.Ordinal);
        var slides = new Dictionary<string, string>(StringComparer.Ordinal);
        var earlier = new HashSet<string>(StringComparer.Ordinal);
        var gone = new HashSet<string>(StringComparer.Ordinal);
        foreach (var data in InstancesStored.Unbatched(studyEvents))
        {
            switch (data)
            {
                case InstanceStored stored:
                    current[stored.Instance.SopInstanceUid] = stored.Instance.Blob.Sha256;
                    break;
                case InstanceReplaced replaced:
                    current[replaced.Instance.SopInstanceUid] = replaced.Instance.Blob.Sha256;
                    earlier.Add(replaced.PreviousSha256);
                    break;
                case InstanceErased erased:
                    current[erased.Instance.SopInstanceUid] = erased.Instance.Blob.Sha256;
                    gone.Add(erased.PreviousSha256);
                    break;
                case SeriesRefiledIn refiled:
                    foreach (var arrived in refiled.Arrived)
                    {
                        current[arrived.Instance.SopInstanceUid] = arrived.Instance.Blob.Sha256;
                    }

                    break;
                case SeriesRefiledOut departed:
                    foreach (var hidden in departed.Departed)
                    {
                        current.Remove(hidden.SopInstanceUid);
                    }

                    break;
                case DeletedContentRestored restored:
                    foreach (var instance in restored.Restored)
                    {
                        current[instance.Instance.SopInstanceUid] = instance.Instance.Blob.Sha256;
                    }

                    break;
                case DeletedContentPurged purged:
                    gone.UnionWith(purged.ReleasedBlobs);
                    break;
                case SlideFileStored slide:
                    slides[slide.SopInstanceUid] = slide.File.Blob.Sha256;
                    break;
            }
        }

        var live = current.Values.Concat(slides.Values).Where(sha => !gone.Contains(sha)).Distinct(StringComparer.Ordinal).ToList();
        return [.. live, .. earlier.Where(sha => !live.Contains(sha, StringComparer.Ordinal) && !gone.Contains(sha))];
    }
}
