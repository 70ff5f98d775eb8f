using EventSourced.Application.Common;
using EventSourced.Domain.Common;
using EventSourced.Domain.Corrections;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Application.Patients.MergingPatients;

/// <param name="NewTarget">The target's demographics if it has to be created (an existing target keeps its own).</param>
public sealed record MergePatients(PatientKey Source, PatientKey Target, PatientDemographics NewTarget, string? OperatorName, string? UserName, Actor By);

public static class MergePatientsHandler
{
    /// <summary>
    /// Every study of the source is filed under the target (one <see cref="StudyPatientAssigned"/> per
    /// study, carrying what it was), the source is marked merged (not erased), and the whole is recorded
    /// as one correction so that it can be undone. Every check comes before the first append: a
    /// rejected merge writes nothing.
    /// </summary>
    public static async Task<CommandResult<CorrectionResponse>> Handle(
        MergePatients command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var streams = new PatientStreams(session, cancellation);
        var source = await streams.LockAsync(streams.IdOf(command.Source));
        if (source?.Aggregate is not { } from)
        {
            return Reject($"No patient found with source PatientID '{command.Source.PatientId}'.");
        }

        if (from.MergedInto is not null)
        {
            return Reject($"The source patient '{command.Source.PatientId}' was already merged into '{from.MergedIntoPatient?.PatientId}'.");
        }

        if (from.Studies.IsEmpty)
        {
            return Reject($"No study found for source patient '{command.Source.PatientId}'.");
        }

        if (streams.IdOf(command.Target) == source.Id)
        {
            return Reject("The source and target patients are the same patient.");
        }

        var studies = new List<(JasperFx.Events.IEventStream<Study> Stream, Study Study)>();
        foreach (var uid in from.Studies)
        {
            var stream = await session.Events.FetchForExclusiveWriting<Study>(Study.StreamId(session.TenantId, uid), cancellation);
            if (stream.Aggregate is { } study)
            {
                studies.Add((stream, study));
            }
        }

        var (target, rejected) = await streams.TargetAsync(command.Target, command.NewTarget, command.By, now);
        if (rejected is not null)
        {
            return CommandResult<CorrectionResponse>.Reject(rejected);
        }

        var into = PatientStreams.Current(target!)!.Demographics;
        var correctionId = Guid.CreateVersion7(now);
        var changes = new List<StudyPatientChange>();
        foreach (var (stream, study) in studies)
        {
            changes.Add(new StudyPatientChange(study.StudyInstanceUid, study.AssignedPatient, into, source.Id, target!.Id));
            stream.AppendOne(new StudyPatientAssigned(study.Id, study.StudyInstanceUid, into, study.AssignedPatient, StudyPatientChangeReason.PatientMerged, correctionId, command.By, now));
            source.AppendOne(new PatientStudyUnlinked(source.Id, study.StudyInstanceUid, correctionId, command.By, now));
            target.AppendOne(new PatientStudyLinked(target.Id, study.StudyInstanceUid, correctionId, command.By, now));
        }

        source.AppendOne(new PatientMerged(source.Id, target!.Id, into, correctionId, command.OperatorName, command.By, now));
        session.Events.StartStream<Correction>(correctionId,
            new CorrectionRecorded(correctionId, CorrectionKind.PatientMerge, changes, source.Id, command.UserName, command.OperatorName, command.By, now));
        return CommandResult<CorrectionResponse>.Ok(new(correctionId));
    }

    private static CommandResult<CorrectionResponse> Reject(string detail) => CommandResult<CorrectionResponse>.Reject(Rejection.Conflict(detail));
}
