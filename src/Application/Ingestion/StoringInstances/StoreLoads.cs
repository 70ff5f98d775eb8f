using EventSourced.Domain.Orders;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Studies;
using JasperFx.Events;
using Marten;

namespace EventSourced.Application.Ingestion.StoringInstances;

/// <summary>
/// The streams one <see cref="StoreInstances"/> command decides on, fetched in one round trip: the study's
/// stream locked for writing, then its order register's (the same order as every writer takes them: the
/// study, then its register), and the patient the first instance names (used when the study is new, where
/// it is filed under that patient). Statements of a batch run in order, so the locks are taken as before.
/// </summary>
internal sealed record StoreLoads(IEventStream<Study> Study, IEventStream<StudyOrderRegister> Register, IEventStream<Patient>? Patient)
{
    public static async Task<StoreLoads> FetchAsync(IDocumentSession session, StoreInstances command, Guid studyStreamId, CancellationToken cancellation)
    {
        var first = command.Instances[0];
        var batch = session.CreateBatchQuery();
        var study = batch.Events.FetchForExclusiveWriting<Study>(studyStreamId);
        var register = batch.Events.FetchForExclusiveWriting<StudyOrderRegister>(StudyOrderRegister.StreamId(session.TenantId, first.StudyInstanceUid));
        var patient = PatientHeaders.DemographicsOf(first.Header) is { } named
            ? batch.Events.FetchForWriting<Patient>(Domain.Patients.Patient.StreamId(session.TenantId, named.IssuerOfPatientId, named.PatientId))
            : null;
        await batch.Execute(cancellation);
        return new StoreLoads(await study, await register, patient is null ? null : await patient);
    }
}
