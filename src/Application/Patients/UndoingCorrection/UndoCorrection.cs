using EventSourced.Application.Common;
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

        var studies = new List<(JasperFx.Events.IEventStream<Study> Stream, Study Study, StudyPatientChange Change)>();
        var skipped = new List<string>();
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
}
