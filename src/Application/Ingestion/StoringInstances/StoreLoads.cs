using EventSourced.Application.Common;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Studies;
using JasperFx.Events;
using Marten;

namespace EventSourced.Application.Ingestion.StoringInstances;

/// <summary>
/// The streams one <see cref="StoreInstances"/> command decides on: the study's stream locked for writing, then its
/// order register's (the same order as every writer takes them: the study, then its register). The patient is not
/// read here: only a new study needs it, and then it is locked (<see cref="Patients.PatientStreams.FileNewStudyAsync"/>),
/// which a study that exists must not do.
/// </summary>
/// <remarks>
/// A study this node stored into before (<see cref="StudyWriteCache"/>): its row is locked, the kept aggregate taken at
/// the locked version (brought forward when behind), then the register is read. Otherwise, or when the entry does not
/// describe the log: both streams in one batch, Marten folding the study's whole stream (statements of a batch run in
/// order, so the locks are taken as before).
/// </remarks>
internal sealed record StoreLoads(StreamWrite<Study> Study, IEventStream<StudyOrderRegister> Register)
{
    public static async Task<StoreLoads> FetchAsync(
        IDocumentSession session, StudyWriteCache cache, StoreInstances command, Guid studyStreamId, CancellationToken cancellation)
    {
        var registerId = StudyOrderRegister.StreamId(session.TenantId, command.Instances[0].StudyInstanceUid);
        var locked = await cache.LockAsync(session, studyStreamId, cancellation);
        if (locked.Kept is not null)
        {
            var register = await session.Events.FetchForExclusiveWriting<StudyOrderRegister>(registerId, cancellation);
            return new StoreLoads(StreamWrite<Study>.From(session, studyStreamId, locked, null), register);
        }

        var batch = session.CreateBatchQuery();
        var study = batch.Events.FetchForExclusiveWriting<Study>(studyStreamId);
        var registerFetched = batch.Events.FetchForExclusiveWriting<StudyOrderRegister>(registerId);
        await batch.Execute(cancellation);
        return new StoreLoads(StreamWrite<Study>.From(session, studyStreamId, locked, await study), await registerFetched);
    }
}
