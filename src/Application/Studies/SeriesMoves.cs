using System.Text.Json;
using EventSourced.Application.Orders.RecordingImages;
using EventSourced.Domain.Access;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Studies;
using JasperFx.Events;
using Marten;

namespace EventSourced.Application.Studies;

/// <summary>
/// What reconcile, swap and their undo share: the studies locked in one order, what each stream says of
/// its instances, and the appending of a move (the joining study's event before the leaving one's, so
/// a study that gives and receives in one command never looks empty).
/// </summary>
public sealed class SeriesMoves(IDocumentSession session, CancellationToken cancellation)
{
    private readonly Dictionary<string, IEventStream<Study>> _streams = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, StudyContents> _contents = [];

    /// <summary>
    /// Locks the studies' stream rows until commit, in UID order as a merge does (two commands on the
    /// same studies queue instead of deadlocking), so concurrent reconciles, swaps, moves and deprecations of a study
    /// decide one after another on what the previous one left. A study that does not exist has no row
    /// to lock: two commands creating it conflict on the stream's version, and the loser is retried.
    /// </summary>
    public async Task LockAsync(params string[] studyUids)
    {
        foreach (var uid in studyUids.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            _streams[uid] = await session.Events.FetchForExclusiveWriting<Study>(Study.StreamId(session.TenantId, uid), cancellation);
        }
    }

    public IEventStream<Study> Stream(string studyUid) => _streams[studyUid];

    /// <summary>A deprecation in progress on one of the studies: its instances are being hidden, so their series stay where they are (409).</summary>
    public static Rejection? Pending(params Study?[] studies) =>
        studies.FirstOrDefault(s => s?.PendingDeprecation is not null) is { } pending
            ? Rejection.Conflict($"A deprecation of study {pending.StudyInstanceUid} is pending.")
            : null;

    public Study? StudyOf(string studyUid) => _streams[studyUid].Aggregate;

    /// <summary>Each instance as the study shows it, its identity, its archive filings (read from the study's events).</summary>
    public async Task<StudyContents> ContentsAsync(Guid streamId)
    {
        if (_contents.TryGetValue(streamId, out var known))
        {
            return known;
        }

        var events = await session.Events.FetchStreamAsync(streamId, token: cancellation);
        var shown = new Dictionary<string, InstanceRefiled>(StringComparer.Ordinal);
        var filings = new Dictionary<(string, string, string), InstanceFiledInArchive>();
        JsonElement? identity = null;
        JsonElement? arrivedIdentity = null;
        foreach (var data in InstancesStored.Unbatched(events.Select(e => e.Data)))
        {
            switch (data)
            {
                case InstanceStored stored:
                    shown[stored.Instance.SopInstanceUid] = new(streamId, stored.Instance, stored.Instance.StudyInstanceUid, stored.StoredAt);
                    identity = SeriesRefiling.IdentityOf(stored.Instance.Header);
                    foreach (var filed in stored.Filings())
                    {
                        filings[(filed.Project, filed.Archive, filed.SopInstanceUid)] = filed;
                    }

                    break;
                case InstanceReplaced replaced:
                    shown[replaced.Instance.SopInstanceUid] = new(streamId, replaced.Instance, replaced.Instance.StudyInstanceUid, replaced.ReplacedAt);
                    identity = SeriesRefiling.IdentityOf(replaced.Instance.Header);
                    break;
                case InstanceErased erased:
                    // The patient's data were erased: the instance moves as rewritten, never with the removed bytes.
                    shown[erased.Instance.SopInstanceUid] = shown.TryGetValue(erased.Instance.SopInstanceUid, out var before)
                        ? before with { Instance = erased.Instance }
                        : new(streamId, erased.Instance, erased.Instance.StudyInstanceUid, erased.ErasedAt);
                    break;
                case SeriesRefiledIn refiled:
                    arrivedIdentity ??= refiled.Identity;
                    foreach (var arrived in refiled.Arrived)
                    {
                        shown[arrived.Instance.SopInstanceUid] = arrived;
                    }

                    foreach (var filed in refiled.Filed)
                    {
                        filings[(filed.Project, filed.Archive, filed.SopInstanceUid)] = filed;
                    }

                    break;
                case InstanceFiledInArchive filed:
                    filings[(filed.Project, filed.Archive, filed.SopInstanceUid)] = filed;
                    break;
            }
        }

        var contents = new StudyContents(shown, identity ?? arrivedIdentity ?? JsonSerializer.SerializeToElement(new Dictionary<string, object>()), [.. filings.Values]);
        _contents[streamId] = contents;
        return contents;
    }

    /// <summary>Moves <paramref name="series"/> of <paramref name="from"/> to <paramref name="to"/> (both locked); the events, not yet appended.</summary>
    public async Task<(SeriesRefiledOut Out, SeriesRefiledIn In)> DecideAsync(
        string from, string to, IReadOnlySet<string> series, JsonElement? newIdentity, Domain.Patients.PatientDemographics? newPatient,
        SeriesRefilingReason reason, Guid correctionId, Actor by, DateTimeOffset now)
    {
        var source = StudyOf(from)!;
        var target = StudyOf(to);
        var targetId = Study.StreamId(session.TenantId, to);
        var targetContents = target is null ? null : await ContentsAsync(targetId);
        var identity = newIdentity ?? targetContents!.Identity;
        var targetPatientId = target?.CurrentPatient?.PatientId ?? newPatient?.PatientId;
        return SeriesRefiling.Move(source, await ContentsAsync(source.Id), series, targetId, to, target, targetContents, identity, newPatient,
            targetPatientId, reason, correctionId, by, now);
    }

    /// <summary>Appends decided moves: every joining event before any leaving one on the same stream.</summary>
    public void Append(IReadOnlyList<(SeriesRefiledOut Out, SeriesRefiledIn In)> moves)
    {
        // A study that gives its series in an archive and receives others there keeps its archive record.
        var list = moves.Select(m => (Out: m.Out with
        {
            DepartedFilings = [.. m.Out.DepartedFilings.Select(f => f with
            {
                EmptiesArchiveStudy = f.EmptiesArchiveStudy && !moves.Any(o => o.In.StudyStreamId == f.StudyStreamId
                    && o.In.Filed.Any(g => g.Project == f.Project && g.Archive == f.Archive)),
            })],
        }, m.In)).ToList();
        foreach (var (_, into) in list)
        {
            _streams[into.StudyInstanceUid].AppendOne(into);
        }

        foreach (var (from, _) in list)
        {
            _streams[from.StudyInstanceUid].AppendOne(from);
        }
    }

    /// <summary>
    /// "Images available" for a study that series joined, on the paths a received instance takes: the
    /// study's order register and active order note the images (<see cref="InstancesArrivedForStudy"/>),
    /// and the image availability message of document c's new-exam callback is recorded and forwarded
    /// to the configured endpoints (<see cref="Callbacks.ReceiveNewExamCallbackHandler.Record"/>).
    /// </summary>
    public async Task<Wolverine.OutgoingMessages> ImagesAvailableAsync(
        SeriesRefiledIn refiled, Domain.Patients.PatientDemographics? patient, string sourceId, IReadOnlyList<string> forwardTo, Actor by, DateTimeOffset now)
    {
        var contents = await ContentsAsync(refiled.StudyStreamId);
        var before = StudyOf(refiled.StudyInstanceUid);
        var visible = (before?.VisibleInstances.Select(i => contents.Shown[i.Key].Instance) ?? [])
            .Concat(refiled.Arrived.Select(a => a.Instance))
            .GroupBy(i => i.SopInstanceUid).Select(g => g.Last()).ToList();
        string? Text(string tag) => SeriesRefiling.Value(refiled.Identity, tag);
        var notification = new NewExamNotification
        {
            SourceID = sourceId,
            StudyInstanceUID = refiled.StudyInstanceUid,
            AccessionNumber = Text(Tags.AccessionNumber),
            PatientID = patient?.PatientId ?? Text(Tags.PatientID),
            NumberOfStudyRelatedSeries = visible.Select(i => i.SeriesInstanceUid).Distinct(StringComparer.Ordinal).Count(),
            NumberOfStudyRelatedInstances = visible.Count,
            ModalitiesInStudy = [.. visible.Select(i => SeriesRefiling.Value(i.Header, Tags.Modality)).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            AeTitles = [.. visible.Select(i => i.CallingAeTitle).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            StationNames = [.. visible.Select(i => i.StationName ?? SeriesRefiling.Value(i.Header, Tags.StationName)).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            EventType = "COMPLETED",
            StudyDate = Text(Tags.StudyDate),
            StudyTime = Text(Tags.StudyTime),
            StudyID = Text(Tags.StudyID),
            ReferringPhysicianName = Text(Tags.ReferringPhysicianName),
            StudyDescription = Text(Tags.StudyDescription),
            PatientName = patient?.PatientName ?? Text(Tags.PatientName),
            PatientBirthDate = patient is null ? Text(Tags.PatientBirthDate) : patient.PatientBirthDate,
            PatientSex = patient is null ? Text(Tags.PatientSex) : patient.PatientSex,
        };
        var outgoing = Callbacks.ReceiveNewExamCallbackHandler.Record(session, Guid.CreateVersion7(now), notification, forwardTo, by, now);
        var headers = refiled.Arrived.SelectMany(a => HeaderMetadata.PresentIn(a.Instance.Header)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        outgoing.Add(new InstancesArrivedForStudy(refiled.StudyInstanceUid, [.. refiled.Arrived.Select(a => a.Instance.SopInstanceUid)], headers, by, now));
        return outgoing;
    }
}
