using EventSourced.Domain.Orders;
using EventSourced.Domain.Studies;
using JasperFx.Events;
using Marten;

namespace EventSourced.Application.Ingestion.StoringInstances;

/// <summary>
/// The streams one <see cref="StoreInstances"/> command decides on, fetched in one round trip: the study's
/// stream locked for writing, then its order register's (the same order as every writer takes them: the
/// study, then its register). Statements of a batch run in order, so the locks are taken as before. The
/// patient is not read here: only a new study needs it, and then it is locked
/// (<see cref="Patients.PatientStreams.FileNewStudyAsync"/>), which a study that exists must not do.
/// </summary>
internal sealed record StoreLoads(IEventStream<Study> Study, IEventStream<StudyOrderRegister> Register)
{
    public static async Task<StoreLoads> FetchAsync(IDocumentSession session, StoreInstances command, Guid studyStreamId, CancellationToken cancellation)
    {
        var batch = session.CreateBatchQuery();
        var study = batch.Events.FetchForExclusiveWriting<Study>(studyStreamId);
        var register = batch.Events.FetchForExclusiveWriting<StudyOrderRegister>(StudyOrderRegister.StreamId(session.TenantId, command.Instances[0].StudyInstanceUid));
        await batch.Execute(cancellation);
        return new StoreLoads(await study, await register);
    }
}
