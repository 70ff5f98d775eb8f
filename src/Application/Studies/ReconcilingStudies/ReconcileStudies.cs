using EventSourced.Application.Common;
using EventSourced.Application.Patients;
using EventSourced.Domain.Common;
using EventSourced.Domain.Corrections;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Studies;
using Marten;
using Wolverine;

namespace EventSourced.Application.Studies.ReconcilingStudies;

/// <summary>
/// Document e <c>studies/reconcile</c>: every series of the source study joins the target. A target that
/// does not exist is created from the call (its study attributes and the patient, found by PatientID or
/// registered from the call's demographics); an existing target keeps its attributes and must be filed
/// under the call's PatientID.
/// </summary>
public sealed record ReconcileStudies(
    string SourceStudyInstanceUid,
    string TargetStudyInstanceUid,
    PatientKey Patient,
    PatientDemographics NewPatient,
    string? AccessionNumber,
    string? StudyDescription,
    string? StudyDate,
    string UserName,
    Actor By);

public static class ReconcileStudiesHandler
{
    /// <summary>The SourceID of the image availability message a reconcile sends for its target.</summary>
    public const string ImagesAvailableSource = "o3-dpacs-wado/studies/reconcile";

    public static async Task<(CommandResult<CorrectionResponse>, OutgoingMessages)> Handle(
        ReconcileStudies command, IDocumentSession session, Callbacks.NewExamCallbackTargets callbacks, TimeProvider clock, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var (source, target) = (command.SourceStudyInstanceUid, command.TargetStudyInstanceUid);
        var moves = new SeriesMoves(session, cancellation);
        await moves.LockAsync(source, target);
        if (moves.StudyOf(source) is not { } study || study.VisibleSeries.Count == 0)
        {
            // Document e: "404 - the requested sourceStudyInstanceUID is not available at the time of the request".
            return (CommandResult<CorrectionResponse>.Reject(Rejection.NotFound($"Study {source} is not available.")), []);
        }

        var existing = moves.StudyOf(target);
        if (existing is not null && existing.CurrentPatient?.PatientId != command.Patient.PatientId)
        {
            return (CommandResult<CorrectionResponse>.Reject(Rejection.Conflict(
                $"The target study {target} exists with PatientID '{existing.CurrentPatient?.PatientId}', not '{command.Patient.PatientId}'.")), []);
        }

        if (SeriesMoves.Pending(study, existing) is { } pending)
        {
            return (CommandResult<CorrectionResponse>.Reject(pending), []);
        }

        var correctionId = Guid.CreateVersion7(now);
        var patient = existing?.CurrentPatient;
        PatientDemographics? created = null;
        Guid? linked = null;
        if (existing is null)
        {
            // Document e: "If the patient already exists (the check is done only on PatientID), the target
            // study is simply hooked to the existing patient, otherwise a new patient … is created."
            var streams = new PatientStreams(session, cancellation);
            var (patientStream, _) = await streams.TargetAsync(command.Patient, command.NewPatient, command.By, now, mergedAllowed: true);
            created = patient = PatientStreams.Current(patientStream!)!.Demographics;
            patientStream!.AppendOne(new PatientStudyLinked(patientStream.Id, target, correctionId, command.By, now));
            linked = patientStream.Id;
        }

        var identity = existing is null
            ? SeriesRefiling.NewIdentity(target, created!, command.AccessionNumber, command.StudyDescription, command.StudyDate)
            : (System.Text.Json.JsonElement?)null;
        var move = await moves.DecideAsync(source, target, study.VisibleSeries, identity, created, SeriesRefilingReason.Reconciled, correctionId, command.By, now);
        moves.Append([move]);
        session.Events.StartStream<Correction>(correctionId, new CorrectionRecorded(
            correctionId, CorrectionKind.StudyReconcile, [], null, command.UserName, null, command.By, now)
        {
            SeriesMoves = [new SeriesMove(source, target, move.In.SeriesInstanceUids, linked)],
        });
        var outgoing = await moves.ImagesAvailableAsync(move.In, patient, ImagesAvailableSource, callbacks.Urls, command.By, now);
        return (CommandResult<CorrectionResponse>.Ok(new(correctionId)), outgoing);
    }
}
