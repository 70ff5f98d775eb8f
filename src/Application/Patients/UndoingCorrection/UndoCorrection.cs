using EventSourced.Application.Common;
using EventSourced.Application.Studies;
using EventSourced.Domain.Common;
using EventSourced.Domain.Corrections;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Application.Patients.UndoingCorrection;

public sealed record UndoCorrection(Guid CorrectionId, string? UserName, Actor By);

public static class UndoCorrectionHandler
{
    /// <summary>
    /// Appends the inverse of each change the correction made (nothing is removed from the log). Refused
    /// (409, nothing written) when it was undone already. A study that a later correction has changed
    /// since is left as that later correction put it (and named in the answer): undoing the earlier
    /// one must not silently discard the later.
    /// </summary>
    public static async Task<CommandResult<CorrectionResponse>> Handle(
        UndoCorrection command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var correctionStream = await session.Events.FetchForExclusiveWriting<Correction>(command.CorrectionId, cancellation);
        if (correctionStream.Aggregate is not { } correction)
        {
            return CommandResult<CorrectionResponse>.Reject(Rejection.NotFound($"No correction {command.CorrectionId}."));
        }

        if (correction.Undone)
        {
            return CommandResult<CorrectionResponse>.Reject(Rejection.Conflict($"Correction {command.CorrectionId} was undone already."));
        }

        var skipped = new List<string>();
        if (correction.Recorded.SeriesMoves.Count > 0 && await UndoSeriesMovesAsync(correction.Recorded, command, session, skipped, now, cancellation) is { } refused)
        {
            return CommandResult<CorrectionResponse>.Reject(refused);
        }

        var studies = new List<(JasperFx.Events.IEventStream<Study> Stream, Study Study, StudyPatientChange Change)>();
        foreach (var change in correction.Recorded.Studies)
        {
            var stream = await session.Events.FetchForExclusiveWriting<Study>(Study.StreamId(session.TenantId, change.StudyInstanceUid), cancellation);
            if (stream.Aggregate is not { } study || study.AssignedPatient != change.To)
            {
                // A later correction moved this study on (e.g. one study of a merged patient moved back):
                // that later correction owns it now; undoing this one leaves it where it is.
                skipped.Add(change.StudyInstanceUid);
                continue;
            }

            studies.Add((stream, study, change));
        }

        var streams = new PatientStreams(session, cancellation);
        foreach (var (stream, study, change) in studies)
        {
            stream.AppendOne(new StudyPatientAssigned(study.Id, study.StudyInstanceUid, change.From, change.To, StudyPatientChangeReason.CorrectionUndone, command.CorrectionId, command.By, now));
            var to = await streams.FetchAsync(change.ToPatientStreamId);
            if (PatientStreams.Current(to) is { } target && target.Studies.Contains(study.StudyInstanceUid))
            {
                to.AppendOne(new PatientStudyUnlinked(to.Id, study.StudyInstanceUid, command.CorrectionId, command.By, now));
            }

            if (change.FromPatientStreamId is { } fromId && await streams.FetchAsync(fromId) is var from && PatientStreams.Current(from) is { } source
                && !source.Studies.Contains(study.StudyInstanceUid))
            {
                from.AppendOne(new PatientStudyLinked(fromId, study.StudyInstanceUid, command.CorrectionId, command.By, now));
            }
        }

        if (correction.Recorded.MergedPatientStreamId is { } merged)
        {
            var stream = await streams.FetchAsync(merged);
            if (PatientStreams.Current(stream) is { MergedInto: not null })
            {
                stream.AppendOne(new PatientMergeUndone(merged, command.CorrectionId, command.By, now));
            }
        }

        correctionStream.AppendOne(new CorrectionUndone(command.CorrectionId, command.UserName, command.By, now));
        return CommandResult<CorrectionResponse>.Ok(new(command.CorrectionId) { SkippedStudies = skipped });
    }

    /// <summary>
    /// A reconcile or swap undone: each move made the other way, the instances shown in their first study
    /// exactly as they were. A move whose series are no longer all in its target (a later correction took
    /// them on) is left as it is, its target named in the answer.
    /// </summary>
    private static async Task<Rejection?> UndoSeriesMovesAsync(
        CorrectionRecorded recorded, UndoCorrection command, IDocumentSession session, List<string> skipped, DateTimeOffset now, CancellationToken cancellation)
    {
        var moves = new SeriesMoves(session, cancellation);
        await moves.LockAsync([.. recorded.SeriesMoves.SelectMany(m => new[] { m.FromStudyInstanceUid, m.ToStudyInstanceUid })]);
        if (SeriesMoves.Pending([.. recorded.SeriesMoves.SelectMany(m => new[] { moves.StudyOf(m.FromStudyInstanceUid), moves.StudyOf(m.ToStudyInstanceUid) })]) is { } pending)
        {
            return pending;
        }

        var inverse = new List<(SeriesRefiledOut, SeriesRefiledIn)>();
        var streams = new PatientStreams(session, cancellation);
        foreach (var move in recorded.SeriesMoves)
        {
            var series = move.SeriesInstanceUids.ToHashSet(StringComparer.Ordinal);
            if (moves.StudyOf(move.ToStudyInstanceUid) is not { } current || moves.StudyOf(move.FromStudyInstanceUid) is null || !series.IsSubsetOf(current.VisibleSeries))
            {
                skipped.Add(move.ToStudyInstanceUid);
                continue;
            }

            inverse.Add(await moves.DecideAsync(move.ToStudyInstanceUid, move.FromStudyInstanceUid, series, null, null,
                SeriesRefilingReason.CorrectionUndone, recorded.CorrectionId, command.By, now));
            if (move.LinkedPatientStreamId is { } linked && current.VisibleSeries.IsSubsetOf(series)
                && PatientStreams.Current(await streams.FetchAsync(linked)) is { } patient && patient.Studies.Contains(move.ToStudyInstanceUid))
            {
                // The study the reconcile created is empty again: it leaves the patient it was filed under.
                (await streams.FetchAsync(linked)).AppendOne(new PatientStudyUnlinked(linked, move.ToStudyInstanceUid, recorded.CorrectionId, command.By, now));
            }
        }

        moves.Append(inverse);
        return null;
    }
}
