using System.Collections.Immutable;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Studies;

/// <summary>
/// The study aggregate, as far as storing instances needs it: which SOP instances it holds, with
/// which bytes, since when.
/// </summary>
public sealed partial record Study(Guid Id, string StudyInstanceUid, ImmutableDictionary<string, Study.InstanceState> Instances)
{
    private static readonly Guid Namespace = new("9d4c1c5e-0f5e-4a0e-b8f4-3c2a8f0d7b51");

    public sealed record InstanceState(string SeriesInstanceUid, string Sha256, DateTimeOffset StoredAt);

    public static Guid StreamId(string tenantId, string studyInstanceUid) =>
        DeterministicGuid.ForTenant(Namespace, tenantId, studyInstanceUid);

    public static Study Create(InstanceStored stored) =>
        new Study(stored.StudyStreamId, stored.Instance.StudyInstanceUid, ImmutableDictionary<string, InstanceState>.Empty)
        {
            ReceivedPatient = Patients.PatientHeaders.DemographicsOf(stored.Instance.Header),
        }.Apply(stored);

    public Study Apply(InstanceStored stored) => stored.Filings().Aggregate(this with
    {
        Instances = Instances.SetItem(stored.Instance.SopInstanceUid, new(stored.Instance.SeriesInstanceUid, stored.Instance.Blob.Sha256, stored.StoredAt)),
    }, (study, filed) => study.Apply(filed));

    public static Study Create(InstancesStored stored)
    {
        var children = stored.Children();
        return children.Skip(1).Aggregate(Create(children[0]), (study, child) => study.Apply(child));
    }

    public Study Apply(InstancesStored stored) => stored.Children().Aggregate(this, (study, child) => study.Apply(child));

    public Study Apply(InstanceReplaced replaced) => this with
    {
        Instances = Instances.SetItem(replaced.Instance.SopInstanceUid, new(replaced.Instance.SeriesInstanceUid, replaced.Instance.Blob.Sha256, replaced.ReplacedAt)),
    };

    /// <summary>Document d: the archives (Project and Archive, see <see cref="Archive.ArchivePlacement.Key"/>) the study is filed in.</summary>
    public ImmutableDictionary<string, Archive.ArchiveFiling> Archives { get; init; } = ImmutableDictionary<string, Archive.ArchiveFiling>.Empty;

    public Study Apply(Archive.InstanceFiledInArchive filed)
    {
        var key = new Archive.ArchivePlacement(filed.Project, filed.Archive).Key;
        var filing = Archives.TryGetValue(key, out var existing)
            ? existing with { SopInstanceUids = existing.SopInstanceUids.Add(filed.SopInstanceUid), SeriesKeys = existing.SeriesKeys.Add(filed.ArchiveSeriesUid) }
            : new Archive.ArchiveFiling(filed.PatientId, [filed.SopInstanceUid], [filed.ArchiveSeriesUid]);
        return this with { Archives = Archives.SetItem(key, filing) };
    }
    // --- Patient corrections (StudyCorrectionEvents.cs) ---

    /// <summary>The patient a correction filed the study under; null: the patient of its instances' headers.</summary>
    public Patients.PatientDemographics? AssignedPatient { get; init; }

    /// <summary>The patient of the study's first received instance, as its header says.</summary>
    public Patients.PatientDemographics? ReceivedPatient { get; init; }

    /// <summary>The patient the study is filed under now.</summary>
    public Patients.PatientDemographics? CurrentPatient => AssignedPatient ?? ReceivedPatient;

    public Study Apply(StudyPatientAssigned assigned) => this with { AssignedPatient = assigned.Patient };

    /// <summary>
    /// The patient's data were erased: the instance's bytes were rewritten, the study no longer names its
    /// patient. An instance a delete removed stays removed; its restore brings back the rewritten bytes.
    /// </summary>
    public Study Apply(InstanceErased erased)
    {
        var uid = erased.Instance.SopInstanceUid;
        var sha = erased.Instance.Blob.Sha256;
        return this with
        {
            Instances = Instances.TryGetValue(uid, out var state) ? Instances.SetItem(uid, state with { Sha256 = sha }) : Instances,
            Deletions = [.. Deletions.Select(d => d.Removed.TryGetValue(uid, out var removed) ? d with { Removed = d.Removed.SetItem(uid, removed with { Sha256 = sha }) } : d)],
            AssignedPatient = null,
            ReceivedPatient = null,
        };
    }
}

public enum StoreOutcome
{
    /// <summary>A new instance: <see cref="InstanceStored"/>.</summary>
    Stored,

    /// <summary>The same bytes again: success, no event.</summary>
    AlreadyStored,

    /// <summary>Different bytes within the replace window: <see cref="InstanceReplaced"/>.</summary>
    Replaced,

    /// <summary>Different bytes too late, or under another series: nothing appended.</summary>
    Rejected,
}

public sealed record StoreDecision(StoreOutcome Outcome, object? Event, Rejection? Rejection);

public static class StudyDecisions
{
    /// <summary>
    /// Store an instance in its study. The same SOP Instance UID with the same SHA-256 is idempotent.
    /// Different bytes within <paramref name="replaceWindow"/> of the previous store replace it
    /// (document b: "identical studies … uploaded within a 5 minute period will be overwritten");
    /// later, or under another series, it is a conflict.
    /// </summary>
    public static StoreDecision Store(
        Study? study, Guid streamId, StoredInstance instance, TimeSpan replaceWindow, Actor by, DateTimeOffset now)
    {
        if (study is null || !study.Instances.TryGetValue(instance.SopInstanceUid, out var previous))
        {
            return new(StoreOutcome.Stored, new InstanceStored(streamId, instance, by, now), null);
        }

        if (previous.Sha256 == instance.Blob.Sha256)
        {
            return new(StoreOutcome.AlreadyStored, null, null);
        }

        if (previous.SeriesInstanceUid != instance.SeriesInstanceUid)
        {
            return new(StoreOutcome.Rejected, null, Rejection.Conflict(
                $"SOP instance {instance.SopInstanceUid} is already stored in series {previous.SeriesInstanceUid}."));
        }

        if (now - previous.StoredAt > replaceWindow)
        {
            return new(StoreOutcome.Rejected, null, Rejection.Conflict(
                $"SOP instance {instance.SopInstanceUid} was stored with different content at {previous.StoredAt:O}, more than {replaceWindow} ago."));
        }

        return new(StoreOutcome.Replaced, new InstanceReplaced(streamId, instance, previous.Sha256, by, now), null);
    }
}
