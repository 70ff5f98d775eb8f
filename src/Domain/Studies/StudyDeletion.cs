using System.Collections.Immutable;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Studies;

// Deletion (document d's patient/study/series delete). A delete names a Project/Archive: it withdraws the
// study's filings there (of the whole study, or of one document d series). An instance filed in no other
// archive after that leaves the study and every read path. Within the restore window our own route brings
// it all back; when the window has passed, the purge releases the blobs nobody else needs, and the
// sweeper removes them. Nothing leaves the log. Deprecated content is not shown by document d, so a delete
// does not reach it: it stays deprecated, restorable by the deprecation's own restore.

/// <summary>
/// A document d delete: the archive's filings in its scope (<paramref name="ArchiveSeriesUid"/> null: the
/// whole study) were withdrawn (<paramref name="HiddenFilings"/>, children the archive projections fan
/// out), and the instances filed nowhere else left the study (<paramref name="Hidden"/>, children the
/// per-instance projections fan out). <paramref name="EmptiedSeries"/>: the DICOM series left with no
/// visible instance (their series records go). <paramref name="PurgeAt"/>: the end of the restore window.
/// </summary>
public sealed record StudyContentDeleted(
    Guid StudyStreamId,
    Guid DeletionId,
    string StudyInstanceUid,
    string Project,
    string Archive,
    string? ArchiveSeriesUid,
    IReadOnlyList<ArchiveFilingHidden> HiddenFilings,
    IReadOnlyList<InstanceHidden> Hidden,
    IReadOnlyList<string> EmptiedSeries,
    string Reason,
    Actor DeletedBy,
    DateTimeOffset DeletedAt,
    DateTimeOffset PurgeAt);

/// <summary>
/// A delete was undone within its restore window (our own route): the instances that left come back as
/// last stored (<paramref name="Restored"/>), and the withdrawn filings are filed again (<paramref name="Refiled"/>).
/// </summary>
public sealed record DeletedContentRestored(
    Guid StudyStreamId,
    Guid DeletionId,
    IReadOnlyList<InstanceStored> Restored,
    IReadOnlyList<InstanceFiledInArchive> Refiled,
    string Reason,
    Actor RestoredBy,
    DateTimeOffset RestoredAt)
{
    public DeletedContentRestored WithPersonalDataErased() => this with
    {
        Restored = [.. Restored.Select(r => r with { Instance = r.Instance.WithPersonalDataErased() })],
        Refiled = [.. Refiled.Select(f => f.WithPersonalDataErased())],
    };
}

/// <summary>
/// The restore window of a delete passed: it can no longer be restored, and the blobs of its instances
/// (<paramref name="ReleasedBlobs"/>, SHA-256) are no longer needed by this stream's earlier events. The
/// blob sweeper removes a released blob once no other live event names it.
/// </summary>
public sealed record DeletedContentPurged(
    Guid StudyStreamId,
    Guid DeletionId,
    IReadOnlyList<string> ReleasedBlobs,
    Actor PurgedBy,
    DateTimeOffset PurgedAt);

public sealed partial record Study
{
    /// <summary>A delete: what it withdrew and removed, until when it can be restored, and whether it was.</summary>
    public sealed record Deletion(
        Guid Id,
        string Project,
        string Archive,
        string? ArchiveSeriesUid,
        ImmutableHashSet<string> Withdrawn,
        ImmutableDictionary<string, InstanceState> Removed,
        DateTimeOffset PurgeAt,
        bool Restored,
        bool Purged);

    public ImmutableList<Deletion> Deletions { get; init; } = [];

    public Study Apply(StudyContentDeleted deleted)
    {
        var key = new ArchivePlacement(deleted.Project, deleted.Archive).Key;
        var withdrawn = deleted.HiddenFilings.Select(f => f.SopInstanceUid).ToImmutableHashSet();
        var archives = Archives;
        if (archives.TryGetValue(key, out var filing))
        {
            var left = filing.SopInstanceUids.Except(withdrawn);
            archives = left.IsEmpty
                ? archives.Remove(key)
                : archives.SetItem(key, filing with
                {
                    SopInstanceUids = left,
                    SeriesKeys = filing.SeriesKeys.Except(deleted.HiddenFilings.Select(f => f.ArchiveSeriesUid)),
                });
        }

        var removed = deleted.Hidden
            .Where(h => Instances.ContainsKey(h.SopInstanceUid))
            .ToImmutableDictionary(h => h.SopInstanceUid, h => Instances[h.SopInstanceUid]);
        return this with
        {
            Archives = archives,
            Instances = Instances.RemoveRange(removed.Keys),
            Deletions = Deletions.Add(new(deleted.DeletionId, deleted.Project, deleted.Archive, deleted.ArchiveSeriesUid,
                withdrawn, removed, deleted.PurgeAt, false, false)),
        };
    }

    public Study Apply(DeletedContentRestored restored)
    {
        var study = restored.Restored.Aggregate(this, (s, r) => s.Apply(r));
        study = restored.Refiled.Aggregate(study, (s, f) => s.Apply(f));
        return study with { Deletions = [.. study.Deletions.Select(d => d.Id == restored.DeletionId ? d with { Restored = true } : d)] };
    }

    public Study Apply(DeletedContentPurged purged) => this with
    {
        Deletions = [.. Deletions.Select(d => d.Id == purged.DeletionId ? d with { Purged = true } : d)],
    };
}

/// <summary>Why a delete or a restore of deleted content was refused; the Web maps each to its document's answer.</summary>
public enum DeletionRefusal
{
    /// <summary>Nothing of the scope is filed (visibly) in that archive.</summary>
    NotFound,

    /// <summary>A deprecation of the study is pending: its work would race the delete.</summary>
    DeprecationPending,

    /// <summary>No delete of the study to restore: none, already restored, or its window has passed.</summary>
    NothingToRestore,
}

public sealed record DeletionDecision<T>(T? Event, DeletionRefusal? Refused)
    where T : class;

/// <summary>The pure rules of deleting, restoring and purging a study's content.</summary>
public static class StudyDeletions
{
    /// <summary>
    /// Delete the study's content filed in an archive (<paramref name="archiveSeriesUid"/> null: the whole
    /// study there). Only visible filings count: deprecated content is not shown by document d.
    /// <paramref name="filings"/>: the study's archive filings as the stream holds them (StudyHistory).
    /// </summary>
    public static DeletionDecision<StudyContentDeleted> Delete(
        Study? study,
        Guid deletionId,
        ArchivePlacement placement,
        string? archiveSeriesUid,
        IReadOnlyList<InstanceFiledInArchive> filings,
        string reason,
        TimeSpan restoreWindow,
        Actor by,
        DateTimeOffset now)
    {
        if (study is null || !study.Archives.TryGetValue(placement.Key, out var filing))
        {
            return new(null, DeletionRefusal.NotFound);
        }

        var inScope = filings
            .Where(f => f.Project == placement.Project && f.Archive == placement.Archive)
            .Where(f => filing.SopInstanceUids.Contains(f.SopInstanceUid) && !study.HiddenInstances.Contains(f.SopInstanceUid))
            .Where(f => archiveSeriesUid is null || f.ArchiveSeriesUid == archiveSeriesUid)
            .Select(f => f.SopInstanceUid)
            .ToHashSet(StringComparer.Ordinal);
        if (inScope.Count == 0)
        {
            return new(null, DeletionRefusal.NotFound);
        }

        if (study.PendingDeprecation is not null)
        {
            return new(null, DeletionRefusal.DeprecationPending);
        }

        var hiddenFilings = StudyDeprecations.FilingsOf(study, filings, inScope)
            .Where(f => f.Project == placement.Project && f.Archive == placement.Archive)
            .ToList();
        var elsewhere = study.Archives.Where(a => a.Key != placement.Key).SelectMany(a => a.Value.SopInstanceUids).ToHashSet(StringComparer.Ordinal);
        var hidden = inScope
            .Where(uid => !elsewhere.Contains(uid) && study.Instances.ContainsKey(uid))
            .Order(StringComparer.Ordinal)
            .Select(uid => new InstanceHidden(study.Id, study.Instances[uid].SeriesInstanceUid, uid))
            .ToList();
        var gone = hidden.Select(h => h.SopInstanceUid).ToHashSet(StringComparer.Ordinal);
        var emptied = hidden.Select(h => h.SeriesInstanceUid).Distinct()
            .Where(series => !study.VisibleInstances.Any(i => i.Value.SeriesInstanceUid == series && !gone.Contains(i.Key)))
            .Order(StringComparer.Ordinal)
            .ToList();
        return new(new StudyContentDeleted(study.Id, deletionId, study.StudyInstanceUid, placement.Project, placement.Archive,
            archiveSeriesUid, hiddenFilings, hidden, emptied, reason, by, now, now + restoreWindow), null);
    }

    /// <summary>The latest delete of the study from that archive that can still be restored at <paramref name="now"/>.</summary>
    public static Study.Deletion? Restorable(Study? study, ArchivePlacement placement, DateTimeOffset now) =>
        study?.Deletions.LastOrDefault(d => !d.Restored && !d.Purged && now < d.PurgeAt && d.Project == placement.Project && d.Archive == placement.Archive);

    /// <summary>
    /// Restore the latest restorable delete: its removed instances that were not stored again since come
    /// back as last stored (<paramref name="lastStored"/>), and its withdrawn filings are filed again where
    /// the instance is in the study and not filed in that archive now.
    /// </summary>
    public static DeletionDecision<DeletedContentRestored> Restore(
        Study? study,
        ArchivePlacement placement,
        IReadOnlyDictionary<string, InstanceStored> lastStored,
        IReadOnlyList<InstanceFiledInArchive> filings,
        string reason,
        Actor by,
        DateTimeOffset now)
    {
        if (Restorable(study, placement, now) is not { } deletion)
        {
            return new(null, DeletionRefusal.NothingToRestore);
        }

        if (study!.PendingDeprecation is not null)
        {
            return new(null, DeletionRefusal.DeprecationPending);
        }

        var back = deletion.Removed.Keys
            .Where(uid => !study.Instances.ContainsKey(uid) && lastStored.ContainsKey(uid))
            .Select(uid => lastStored[uid])
            .OrderBy(s => s.StoredAt).ThenBy(s => s.Instance.SopInstanceUid, StringComparer.Ordinal)
            .ToList();
        var present = study.Instances.Keys.Concat(back.Select(b => b.Instance.SopInstanceUid)).ToHashSet(StringComparer.Ordinal);
        var key = new ArchivePlacement(deletion.Project, deletion.Archive).Key;
        var filedNow = study.Archives.TryGetValue(key, out var filing) ? filing.SopInstanceUids : [];
        var patientNow = filing?.PatientId;
        var refiled = filings
            .Where(f => f.Project == deletion.Project && f.Archive == deletion.Archive)
            .Where(f => deletion.Withdrawn.Contains(f.SopInstanceUid) && present.Contains(f.SopInstanceUid) && !filedNow.Contains(f.SopInstanceUid))
            .Where(f => patientNow is null || f.PatientId == patientNow)
            .OrderBy(f => f.SopInstanceUid, StringComparer.Ordinal)
            .ToList();
        return new(new DeletedContentRestored(study.Id, deletion.Id, back, refiled, reason, by, now), null);
    }

    /// <summary>
    /// Purge a delete whose restore window has passed: release the blobs its removed instances had in
    /// this stream (<paramref name="blobsOf"/>: every SHA-256 the stream's events gave each SOP instance),
    /// except the bytes an instance of the study holds now. Null when already restored or purged.
    /// </summary>
    public static DeletedContentPurged? Purge(
        Study? study, Guid deletionId, IReadOnlyDictionary<string, IReadOnlySet<string>> blobsOf, Actor by, DateTimeOffset now)
    {
        if (study?.Deletions.FirstOrDefault(d => d.Id == deletionId) is not { Restored: false, Purged: false } deletion)
        {
            return null;
        }

        var live = study.Instances.Values.Select(i => i.Sha256).ToHashSet(StringComparer.Ordinal);
        var released = deletion.Removed.Keys
            .Where(uid => !study.Instances.ContainsKey(uid))
            .SelectMany(uid => blobsOf.TryGetValue(uid, out var shas) ? shas : (IEnumerable<string>)[])
            .Where(sha => !live.Contains(sha))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
        return new DeletedContentPurged(study.Id, deletionId, released, by, now);
    }
}
