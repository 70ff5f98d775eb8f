using EventSourced.Application.Common;
using EventSourced.Domain.Common;
using EventSourced.Domain.Patients;
using Marten;

namespace EventSourced.Application.Patients.CreatingPatient;

public sealed record CreatePatient(PatientDemographics Patient, Actor By);

public sealed record PatientCreatedResponse(string PatientID, string? IdIssuer);

public static class CreatePatientHandler
{
    /// <remarks>
    /// The stream id is computed from (tenant, issuer, PatientID): two concurrent creates of one identity
    /// both start the same stream, one commits, the other gets Marten's stream collision, is retried by
    /// the Wolverine policy and then finds the patient: 409.
    /// </remarks>
    public static async Task<CommandResult<PatientCreatedResponse>> Handle(
        CreatePatient command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var streams = new PatientStreams(session, cancellation);
        var stream = await streams.FetchAsync(streams.IdOf(command.Patient));
        var (registered, rejection) = PatientDecisions.Register(stream.Aggregate, stream.Id, command.Patient, PatientOrigin.Created, command.By, clock.GetUtcNow());
        if (rejection is not null)
        {
            return CommandResult<PatientCreatedResponse>.Reject(rejection);
        }

        stream.AppendOne(registered!);
        return CommandResult<PatientCreatedResponse>.Ok(new(command.Patient.PatientId, command.Patient.IssuerOfPatientId));
    }
}
