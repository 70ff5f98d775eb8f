using EventSourced.Application.Common;
using EventSourced.Domain.Common;
using EventSourced.Domain.Corrections;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Application.Patients.MovingStudy;

/// <param name="NewTarget">The target's demographics if it has to be created (an existing target keeps its own).</param>
public sealed record MoveStudy(string StudyInstanceUid, PatientKey Target, PatientDemographics NewTarget, string? UserName, Actor By);

public static class MoveStudyHandler
{
    public static async Task<CommandResult<CorrectionResponse>> Handle(
        MoveStudy command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        // Locked: moves of one study queue rather than retry each other.
        var stream = await session.Events.FetchForExclusiveWriting<Study>(Study.StreamId(session.TenantId, command.StudyInstanceUid), cancellation);
        if (stream.Aggregate is not { } study)
        {
            // Document e: "409 - Conflict: study not found or multiple patients found with same PatientID".
            return CommandResult<CorrectionResponse>.Reject(Rejection.Conflict($"Study {command.StudyInstanceUid} not found."));
        }

        var streams = new PatientStreams(session, cancellation);
        Guid? fromId = study.CurrentPatient is { } current ? streams.IdOf(current) : null;
        if (fromId == streams.IdOf(command.Target))
        {
            return CommandResult<CorrectionResponse>.Ok(new(null));
        }

        var (target, rejected) = await streams.TargetAsync(command.Target, command.NewTarget, command.By, now, mergedAllowed: true);
        if (rejected is not null)
        {
            return CommandResult<CorrectionResponse>.Reject(rejected);
        }

        var into = PatientStreams.Current(target!)!.Demographics;
        var correctionId = Guid.CreateVersion7(now);
        stream.AppendOne(new StudyPatientAssigned(study.Id, study.StudyInstanceUid, into, study.AssignedPatient, StudyPatientChangeReason.StudyMoved, correctionId, command.By, now));
        if (fromId is { } id && await streams.FetchAsync(id) is { Aggregate: { } from } source && from.Studies.Contains(study.StudyInstanceUid))
        {
            source.AppendOne(new PatientStudyUnlinked(id, study.StudyInstanceUid, correctionId, command.By, now));
        }

        target!.AppendOne(new PatientStudyLinked(target.Id, study.StudyInstanceUid, correctionId, command.By, now));
        session.Events.StartStream<Correction>(correctionId, new CorrectionRecorded(correctionId, CorrectionKind.StudyMove,
            [new StudyPatientChange(study.StudyInstanceUid, study.AssignedPatient, into, fromId, target.Id)], null, command.UserName, null, command.By, now));
        return CommandResult<CorrectionResponse>.Ok(new(correctionId));
    }
}
