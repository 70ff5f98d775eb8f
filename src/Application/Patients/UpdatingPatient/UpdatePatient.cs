using EventSourced.Application.Common;
using EventSourced.Domain.Common;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Application.Patients.UpdatingPatient;

/// <summary>Absent birth date or sex keep the patient's current value (the document lists them as updatable, not mandatory).</summary>
public sealed record UpdatePatient(PatientKey Patient, string PatientName, string? PatientBirthDate, string? PatientSex, string? OperatorName, Actor By)
{
    /// <summary>The orders of the patient (the caller looks them up by PatientID): they show the new demographics too.</summary>
    public IReadOnlyList<Guid> OrderIds { get; init; } = [];
}

public static class UpdatePatientHandler
{
    public static async Task<CommandResult<CorrectionResponse>> Handle(
        UpdatePatient command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var streams = new PatientStreams(session, cancellation);
        var stream = await streams.LockAsync(streams.IdOf(command.Patient));
        if (stream?.Aggregate is not { } patient)
        {
            return CommandResult<CorrectionResponse>.Reject(Rejection.Conflict($"No patient found with PatientID '{command.Patient.PatientId}'."));
        }

        if (patient.MergedInto is not null)
        {
            return CommandResult<CorrectionResponse>.Reject(Rejection.Conflict(
                $"Patient '{command.Patient.PatientId}' was merged into '{patient.MergedIntoPatient?.PatientId}': update the surviving patient."));
        }

        var updated = patient.Demographics with
        {
            PatientName = command.PatientName,
            PatientBirthDate = command.PatientBirthDate ?? patient.Demographics.PatientBirthDate,
            PatientSex = command.PatientSex ?? patient.Demographics.PatientSex,
        };
        stream.AppendOne(new PatientDemographicsUpdated(stream.Id, updated, patient.Demographics, command.OperatorName, command.By, now));

        // Every study of the patient shows the new demographics (QIDO, metadata, bytes served).
        foreach (var uid in patient.Studies)
        {
            var study = await session.Events.FetchForExclusiveWriting<Study>(Study.StreamId(session.TenantId, uid), cancellation);
            if (study.Aggregate is { } s)
            {
                study.AppendOne(new StudyPatientAssigned(s.Id, uid, updated, s.AssignedPatient, StudyPatientChangeReason.PatientUpdated, null, command.By, now));
            }
        }

        foreach (var orderId in command.OrderIds.Distinct())
        {
            var order = await session.Events.FetchForWriting<Domain.Orders.Order>(orderId, cancellation);
            if (order.Aggregate is not null)
            {
                order.AppendOne(new Domain.Orders.OrderPatientDemographicsUpdated(orderId, updated, command.By, now));
            }
        }

        return CommandResult<CorrectionResponse>.Ok(new(null));
    }
}
