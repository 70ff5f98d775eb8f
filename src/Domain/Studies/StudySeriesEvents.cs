using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;
using EventSourced.Domain.Patients;

namespace EventSourced.Domain.Studies;

// Series moved from one study to another (document e's studies/reconcile and studies/swap, and their
// undo). The stored bytes stay as received and keep their own StudyInstanceUID; the series' membership
// is what these events say. The study it leaves appends SeriesRefiledOut (its instances leave the read
// models, like a deprecation's), the study it joins appends SeriesRefiledIn (its instances enter them,
// as that study shows them: study and patient identity of the headers rewritten to the study's), in
// one transaction. Each pair is its own inverse's input: undo is the same move the other way.

/// <summary>Why series changed study.</summary>
public enum SeriesRefilingReason
{
    /// <summary><c>studies/reconcile</c>: every series of the source joined the target.</summary>
    Reconciled,

    /// <summary><c>studies/swap</c>: the two studies exchanged their series.</summary>
    Swapped,

    /// <summary>A reconcile or swap was undone (our own route).</summary>
    CorrectionUndone,
}

/// <summary>
/// One instance entering a study by a series move, as the study shows it (<paramref name="Instance"/>:
/// its StudyInstanceUID and the study and patient identity of its header are the study's), with the
/// StudyInstanceUID its stored bytes carry (<paramref name="ReceivedStudyInstanceUid"/>: retrieval
/// coerces the bytes when the two differ) and when the bytes were stored. A child of
/// <see cref="SeriesRefiledIn"/>, fanned out by the per-instance projections.
/// </summary>
public sealed record InstanceRefiled(Guid StudyStreamId, StoredInstance Instance, string ReceivedStudyInstanceUid, DateTimeOffset StoredAt);

/// <summary>
/// Series left the study for <paramref name="ToStudyInstanceUid"/>: <paramref name="Departed"/> leave the
/// read models with their archive filings. A study left without instances leaves them too (its stream stays).
/// </summary>
public sealed record SeriesRefiledOut(
    Guid StudyStreamId,
    string StudyInstanceUid,
    string ToStudyInstanceUid,
    IReadOnlyList<string> SeriesInstanceUids,
    IReadOnlyList<InstanceHidden> Departed,
    IReadOnlyList<ArchiveFilingHidden> DepartedFilings,
    SeriesRefilingReason Reason,
    Guid CorrectionId,
    Actor RefiledBy,
    DateTimeOffset RefiledAt);

/// <summary>
/// Series joined the study from <paramref name="FromStudyInstanceUid"/>. <paramref name="Identity"/> is the
/// study and patient identity (DICOM JSON, <see cref="SeriesRefiling.IdentityTags"/>) the arriving headers
/// took; <paramref name="Patient"/> the patient the study is filed under when this event starts the study
/// (reconcile to a new target), null otherwise.
/// </summary>
public sealed record SeriesRefiledIn(
    Guid StudyStreamId,
    string StudyInstanceUid,
    string FromStudyInstanceUid,
    IReadOnlyList<string> SeriesInstanceUids,
    JsonElement Identity,
    PatientDemographics? Patient,
    IReadOnlyList<InstanceRefiled> Arrived,
    IReadOnlyList<InstanceFiledInArchive> Filed,
    SeriesRefilingReason Reason,
    Guid CorrectionId,
    Actor RefiledBy,
    DateTimeOffset RefiledAt)
{
    public SeriesRefiledIn WithPersonalDataErased() => this with
    {
        Identity = PatientHeaders.Coerce(Identity, PatientDemographics.Erased),
        Patient = Patient is null ? null : PatientDemographics.Erased,
        Arrived = [.. Arrived.Select(a => a with { Instance = a.Instance.WithPersonalDataErased() })],
        Filed = [.. Filed.Select(f => f.WithPersonalDataErased())],
    };
}

public sealed partial record Study
{
    /// <summary>SOP Instance UIDs whose series left for another study (kept in <see cref="Instances"/>: a resend of the same bytes stays idempotent).</summary>
    public ImmutableHashSet<string> DepartedInstances { get; init; } = [];

    /// <summary>A study that begins with series from another (reconcile to a new target).</summary>
    public static Study Create(SeriesRefiledIn refiled) =>
        new Study(refiled.StudyStreamId, refiled.StudyInstanceUid, ImmutableDictionary<string, InstanceState>.Empty) { ReceivedPatient = refiled.Patient }
            .Apply(refiled);

    public Study Apply(SeriesRefiledIn refiled)
    {
        var study = this with
        {
            Instances = Instances.SetItems(refiled.Arrived.Select(a =>
                KeyValuePair.Create(a.Instance.SopInstanceUid, new InstanceState(a.Instance.SeriesInstanceUid, a.Instance.Blob.Sha256, a.StoredAt)))),
            DepartedInstances = DepartedInstances.Except(refiled.Arrived.Select(a => a.Instance.SopInstanceUid)),
        };
        return refiled.Filed.Aggregate(study, (s, f) => s.Apply(f));
    }

    public Study Apply(SeriesRefiledOut refiled)
    {
        var gone = refiled.Departed.Select(d => d.SopInstanceUid).ToImmutableHashSet();
        return this with
        {
            DepartedInstances = DepartedInstances.Union(gone),
            Archives = Archives.ToImmutableDictionary(a => a.Key, a => a.Value with { SopInstanceUids = a.Value.SopInstanceUids.Except(gone) }),
        };
    }

    /// <summary>The series with at least one instance every read path shows.</summary>
    public IReadOnlySet<string> VisibleSeries => VisibleInstances.Select(i => i.Value.SeriesInstanceUid).ToHashSet(StringComparer.Ordinal);
}

/// <summary>What a study stream says of its instances beyond the aggregate, as a series move needs it.</summary>
/// <param name="Shown">Each SOP instance as this study last showed it (InstanceStored, InstanceReplaced or SeriesRefiledIn).</param>
/// <param name="ReceivedStudyOf">The StudyInstanceUID each instance's stored bytes carry.</param>
/// <param name="Identity">The study's identity as its latest received header (or, for a study begun by a move, its first arrival) gives it.</param>
/// <param name="Filings">Each (Project, Archive, SOP) filing of the study, the latest.</param>
public sealed record StudyContents(
    IReadOnlyDictionary<string, InstanceRefiled> Shown,
    JsonElement Identity,
    IReadOnlyList<InstanceFiledInArchive> Filings);

/// <summary>The pure rules of moving series between studies.</summary>
public static class SeriesRefiling
{
    /// <summary>
    /// The attributes that say which study (and patient) an instance belongs to: rewritten in the headers
    /// of series that join another study, and coerced in the bytes served (PS3.4 attribute coercion).
    /// </summary>
    public static readonly IReadOnlyList<(string Tag, string Vr)> IdentityTags =
    [
        (Tags.StudyInstanceUID, "UI"), (Tags.StudyDate, "DA"), (Tags.StudyTime, "TM"), (Tags.AccessionNumber, "SH"),
        (Tags.StudyID, "SH"), (Tags.StudyDescription, "LO"), (Tags.ReferringPhysicianName, "PN"),
        (Tags.PatientName, "PN"), (Tags.PatientID, "LO"), (Tags.IssuerOfPatientID, "LO"), (Tags.PatientBirthDate, "DA"), (Tags.PatientSex, "CS"),
    ];

    /// <summary>The identity attributes of a header, as a DICOM JSON object.</summary>
    public static JsonElement IdentityOf(JsonElement header)
    {
        var identity = new JsonObject();
        foreach (var (tag, _) in IdentityTags)
        {
            if (header.ValueKind == JsonValueKind.Object && header.TryGetProperty(tag, out var attribute))
            {
                identity[tag] = HeaderJson.Node(attribute);
            }
        }

        return HeaderJson.Element(identity);
    }

    /// <summary>The identity of a study created by a reconcile: the body's study attributes and the patient it is filed under.</summary>
    public static JsonElement NewIdentity(string studyInstanceUid, PatientDemographics patient, string? accessionNumber, string? studyDescription, string? studyDate)
    {
        var identity = new JsonObject();
        Put(identity, Tags.StudyInstanceUID, "UI", studyInstanceUid);
        Put(identity, Tags.StudyDate, "DA", studyDate);
        Put(identity, Tags.AccessionNumber, "SH", accessionNumber);
        Put(identity, Tags.StudyDescription, "LO", studyDescription);
        PatientHeaders.Coerce(identity, patient);
        return HeaderJson.Element(identity);
    }

    /// <summary>The header with its identity attributes replaced by <paramref name="identity"/>'s (those it lacks removed).</summary>
    public static JsonElement Rewrite(JsonElement header, JsonElement identity)
    {
        var node = HeaderJson.Object(header);
        foreach (var (tag, _) in IdentityTags)
        {
            node.Remove(tag);
            if (identity.TryGetProperty(tag, out var attribute))
            {
                node[tag] = HeaderJson.Node(attribute);
            }
        }

        return HeaderJson.Element(node);
    }

    /// <summary>A string value of an identity attribute (a person name's alphabetic group); null when absent.</summary>
    public static string? Value(JsonElement identity, string tag) =>
        identity.ValueKind == JsonValueKind.Object && identity.TryGetProperty(tag, out var attribute)
        && attribute.TryGetProperty("Value", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0
            ? values[0].ValueKind switch
            {
                JsonValueKind.String => values[0].GetString(),
                JsonValueKind.Object when values[0].TryGetProperty("Alphabetic", out var alphabetic) => alphabetic.GetString(),
                _ => values[0].GetRawText(),
            }
            : null;

    /// <summary>
    /// Move every visible instance of <paramref name="series"/> from <paramref name="source"/> to the study
    /// <paramref name="targetUid"/>. An instance the target showed before (the inverse of an earlier move)
    /// comes back exactly as it showed it; any other takes the target's identity. Archive filings follow
    /// the instances, under the PatientID the target is filed under in that archive (else
    /// <paramref name="targetPatientId"/>).
    /// </summary>
    public static (SeriesRefiledOut Out, SeriesRefiledIn In) Move(
        Study source, StudyContents sourceContents, IReadOnlySet<string> series,
        Guid targetStreamId, string targetUid, Study? target, StudyContents? targetContents, JsonElement targetIdentity, PatientDemographics? newTargetPatient,
        string? targetPatientId, SeriesRefilingReason reason, Guid correctionId, Actor by, DateTimeOffset now)
    {
        var moving = source.VisibleInstances.Where(i => series.Contains(i.Value.SeriesInstanceUid))
            .OrderBy(i => i.Value.StoredAt).ThenBy(i => i.Key, StringComparer.Ordinal).ToList();
        var sops = moving.Select(i => i.Key).ToHashSet(StringComparer.Ordinal);
        var seriesList = series.Order(StringComparer.Ordinal).ToList();
        var arrived = moving.Select(i =>
        {
            var shown = sourceContents.Shown[i.Key];
            var instance = targetContents?.Shown.TryGetValue(i.Key, out var before) == true && before.ReceivedStudyInstanceUid == shown.ReceivedStudyInstanceUid
                ? before.Instance
                : shown.Instance with { StudyInstanceUid = targetUid, Header = Rewrite(shown.Instance.Header, targetIdentity) };
            return new InstanceRefiled(targetStreamId, instance, shown.ReceivedStudyInstanceUid, shown.StoredAt);
        }).ToList();

        var movingFilings = sourceContents.Filings.Where(f => sops.Contains(f.SopInstanceUid)).ToList();
        var departedFilings = new List<ArchiveFilingHidden>();
        foreach (var group in movingFilings.GroupBy(f => (f.Project, f.Archive)))
        {
            var key = new ArchivePlacement(group.Key.Project, group.Key.Archive).Key;
            var empties = source.Archives.TryGetValue(key, out var filing) && filing.SopInstanceUids.All(sops.Contains);
            var list = group.ToList();
            departedFilings.AddRange(list.Select((f, index) => new ArchiveFilingHidden(source.Id, f.Project, f.Archive, f.ArchiveSeriesUid, f.SopInstanceUid, empties && index == list.Count - 1)));
        }

        var filed = movingFilings.Select(f =>
        {
            var key = new ArchivePlacement(f.Project, f.Archive).Key;
            var patientId = target?.Archives.TryGetValue(key, out var existing) == true && existing.SopInstanceUids.Count > 0 ? existing.PatientId : targetPatientId ?? f.PatientId;
            return f with { StudyStreamId = targetStreamId, StudyInstanceUid = targetUid, PatientId = patientId, FiledBy = by, FiledAt = now };
        }).ToList();

        var departed = moving.Select(i => new InstanceHidden(source.Id, i.Value.SeriesInstanceUid, i.Key)).ToList();
        return (
            new SeriesRefiledOut(source.Id, source.StudyInstanceUid, targetUid, seriesList, departed, departedFilings, reason, correctionId, by, now),
            new SeriesRefiledIn(targetStreamId, targetUid, source.StudyInstanceUid, seriesList, targetIdentity, target is null ? newTargetPatient : null,
                arrived, filed, reason, correctionId, by, now));
    }

    private static void Put(JsonObject identity, string tag, string vr, string? value)
    {
        if (value is not null)
        {
            identity[tag] = new JsonObject { ["vr"] = vr, ["Value"] = new JsonArray(value) };
        }
    }
}
