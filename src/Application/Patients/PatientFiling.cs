using EventSourced.Application.Common;
using EventSourced.Domain.Common;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Studies;
using JasperFx.Events;
using Marten;
using Marten.Events;

namespace EventSourced.Application.Patients;

/// <summary>A patient as a call names it: PatientID within an issuer (null: no issuer).</summary>
public sealed record PatientKey(string? Issuer, string PatientId);

/// <summary>The response of a correction: its id, for our undo route (null: nothing changed).</summary>
public sealed record CorrectionResponse(Guid? CorrectionId)
{
    /// <summary>An undo: the studies a later correction had changed, left as they are.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? SkippedStudies { get; init; }
}

/// <summary>
/// Loading patient streams for writing (each once per command: several studies may touch one patient),
/// and filing a newly received study under its patient.
/// </summary>
public sealed class PatientStreams(IDocumentSession session, CancellationToken cancellation)
{
    private readonly Dictionary<Guid, IEventStream<Patient>> _streams = [];

    public Guid IdOf(PatientKey key) => Patient.StreamId(session.TenantId, key.Issuer, key.PatientId);

    public Guid IdOf(PatientDemographics patient) => Patient.StreamId(session.TenantId, patient.IssuerOfPatientId, patient.PatientId);

    /// <summary>The patient's stream (its aggregate is null when the patient does not exist: appending then starts it).</summary>
    public async Task<IEventStream<Patient>> FetchAsync(Guid id)
    {
        if (!_streams.TryGetValue(id, out var stream))
        {
            // Optimistic: two commands changing one patient (or two creating it) cannot both commit; the
            // loser is retried by the Wolverine policy and decides again on what the winner wrote.
            stream = await session.Events.FetchForWriting<Patient>(id, cancellation);
            _streams[id] = stream;
        }

        return stream;
    }

    /// <summary>
    /// An existing patient's stream, its row locked until commit: the patient a command decides on
    /// (merge source, update), so that concurrent commands on it queue and each decides on the state the
    /// previous one left, instead of retrying each other. Null when the patient does not exist.
    /// </summary>
    public async Task<IEventStream<Patient>?> LockAsync(Guid id)
    {
        var stream = await FetchLockedAsync(id);
        return stream.Aggregate is null ? null : stream;
    }

    /// <summary>
    /// The patient's stream, its row locked until commit when the patient exists (an absent patient has no row to
    /// lock: two commands registering it collide on the stream id and the loser is retried).
    /// </summary>
    private async Task<IEventStream<Patient>> FetchLockedAsync(Guid id)
    {
        if (!_streams.TryGetValue(id, out var stream))
        {
            stream = await session.Events.FetchForExclusiveWriting<Patient>(id, cancellation);
            _streams[id] = stream;
        }

        return stream;
    }

    /// <summary>The patient after the events appended to it in this command.</summary>
    public static Patient? Current(IEventStream<Patient> stream)
    {
        var patient = stream.Aggregate;
        foreach (var e in stream.Events)
        {
            patient = e.Data switch
            {
                PatientRegistered r => Patient.Create(r),
                PatientDemographicsUpdated u => patient!.Apply(u),
                PatientStudyLinked l => patient!.Apply(l),
                PatientStudyUnlinked u => patient!.Apply(u),
                PatientMerged m => patient!.Apply(m),
                PatientMergeUndone m => patient!.Apply(m),
                _ => patient,
            };
        }

        return patient;
    }

    /// <summary>
    /// The patient a correction names as its target: found, or registered from <paramref name="demographics"/>
    /// when absent. A merge into a patient that was itself merged is refused (the caller names the
    /// survivor); a study may be moved to one (moving a study back to a merged patient is how one study
    /// of a wrong merge is separated again).
    /// </summary>
    public async Task<(IEventStream<Patient>? Stream, Rejection? Rejection)> TargetAsync(
        PatientKey key, PatientDemographics demographics, Actor by, DateTimeOffset now, bool mergedAllowed = false)
    {
        var stream = await FetchAsync(IdOf(key));
        if (Current(stream) is { } existing)
        {
            return existing.MergedInto is not null && !mergedAllowed
                ? (null, Rejection.Conflict($"The target patient '{key.PatientId}' was merged into '{existing.MergedIntoPatient?.PatientId}'."))
                : (stream, null);
        }

        stream.AppendOne(new PatientRegistered(stream.Id, demographics with { IssuerOfPatientId = key.Issuer, PatientId = key.PatientId }, PatientOrigin.CorrectionTarget, by, now));
        return (stream, null);
    }

    /// <summary>
    /// A study received for the first time: its patient (from the first instance's header) is registered
    /// when unknown, and the study is linked to it; a patient merged into another files the study under
    /// the survivor (the study's assigned patient), so later instances of an old identity follow the merge.
    /// </summary>
    /// <remarks>
    /// The patient's stream is locked (and each survivor's after it), not read optimistically: new studies of one
    /// patient arriving together (the studies of one examination, a migration of a patient's priors) queue on it,
    /// where optimistic appends retried each other until some were refused with a 503 (docs/benchmarks.md,
    /// "New studies of one patient at once"). The lock order is the patient commands' (a patient, then the
    /// studies): a new study has no row of its own to hold, and a study that exists never locks its patient here.
    /// </remarks>
    /// <returns>The study after what this appended to it (<paramref name="appendToStudy"/>).</returns>
    public static async Task<Study> FileNewStudyAsync(
        IDocumentSession session, PatientWriteCache cache, Action<object> appendToStudy, Study current, Actor by, DateTimeOffset now, CancellationToken cancellation)
    {
        if (current.ReceivedPatient is not { } received)
        {
            return current;
        }

        // The patient as this node last filed a study under it, when that is still what the log says (PatientWriteCache):
        // only what its stream gained since is read, not every study filed under it before.
        var streams = new PatientStreams(session, cancellation);
        var id = streams.IdOf(received);
        var patient = await cache.FetchForWritingAsync(session, id, cancellation);
        var linked = new PatientStudyLinked(id, current.StudyInstanceUid, null, by, now);
        if (patient.Aggregate is not { } existing)
        {
            var registered = new PatientRegistered(id, received, PatientOrigin.ReceivedInstance, by, now);
            patient.Append(registered);
            patient.Append(linked);
            patient.KeepAfterCommit(cache, Patient.Create(registered).Apply(linked));
            return current;
        }

        IEventStream<Patient>? survivor = null;
        var into = existing.MergedInto;
        for (var depth = 0; depth < 16 && into is { } next; depth++)
        {
            if (await streams.LockAsync(next) is not { } found)
            {
                break;
            }

            survivor = found;
            into = found.Aggregate!.MergedInto;
        }

        if (survivor is null)
        {
            patient.Append(linked);
            patient.KeepAfterCommit(cache, existing.Apply(linked));
            return current;
        }

        var assigned = new StudyPatientAssigned(
            current.Id, current.StudyInstanceUid, survivor.Aggregate!.Demographics, null, StudyPatientChangeReason.ReceivedForMergedPatient, null, by, now);
        appendToStudy(assigned);
        survivor.AppendOne(linked with { PatientStreamId = survivor.Id });
        patient.KeepAfterCommit(cache, existing);
        return current.Apply(assigned);
    }
}
