using EventSourced.Domain.Orders;
using EventSourced.Domain.Studies;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace EventSourced.Application.Ingestion.StoringInstances;

/// <summary>
/// The study's stream as a store writes to it: the aggregate at the locked version, and where its events go
/// (Marten's stream when Marten folded it, else appended to the stream by id: the row is locked either way).
/// </summary>
internal sealed class StudyWrite(IDocumentSession session, Guid id, Study? aggregate, long version, long epoch, IEventStream<Study>? stream)
{
    public Guid Id => id;

    /// <summary>The study at <see cref="Version"/>: null when the study is new.</summary>
    public Study? Aggregate => aggregate;

    public long Version => version;

    /// <summary>The erasure epoch the aggregate was folded in (<see cref="StudyWriteCache"/>).</summary>
    public long Epoch => epoch;

    /// <summary>Events appended by this command.</summary>
    public int Appended { get; private set; }

    public void Append(object @event)
    {
        if (stream is not null)
        {
            stream.AppendOne(@event);
        }
        else
        {
            session.Events.Append(id, @event);
        }

        Appended++;
    }
}

/// <summary>
/// The streams one <see cref="StoreInstances"/> command decides on: the study's stream locked for writing, then its
/// order register's (the same order as every writer takes them: the study, then its register). The patient is not
/// read here: only a new study needs it, and then it is locked (<see cref="Patients.PatientStreams.FileNewStudyAsync"/>),
/// which a study that exists must not do.
/// </summary>
/// <remarks>
/// A study this node stored into before (<see cref="StudyWriteCache"/>): its row is locked and its version and the
/// erasure epoch read; the cached aggregate is taken at that version, brought forward by the events after it when it
/// is behind, then the register is read. Otherwise, or when the entry does not describe the log: both streams in one
/// batch, Marten folding the study's whole stream (statements of a batch run in order, so the locks are taken as
/// before).
/// </remarks>
internal sealed record StoreLoads(StudyWrite Study, IEventStream<StudyOrderRegister> Register)
{
    public static async Task<StoreLoads> FetchAsync(
        IDocumentSession session, StudyWriteCache cache, StoreInstances command, Guid studyStreamId, CancellationToken cancellation)
    {
        var registerId = StudyOrderRegister.StreamId(session.TenantId, command.Instances[0].StudyInstanceUid);
        if (cache.Epoch < 0)
        {
            // Once per process: what a study folded from now on is tagged with (an entry tagged with no epoch is never used).
            cache.Saw((await session.AdvancedSql.QueryAsync<long>(EpochSql(session), cancellation)).Single());
        }

        var epoch = cache.Epoch;
        if (cache.Find(session.TenantId, studyStreamId) is { } cached)
        {
            await session.BeginTransactionAsync(cancellation);
            if (await LockAsync(session, studyStreamId, cancellation) is { } locked)
            {
                epoch = locked.Epoch;
                cache.Saw(locked.Epoch);
                if (locked.Epoch == cached.Epoch && locked.Version >= cached.Version)
                {
                    var study = locked.Version == cached.Version
                        ? cached.Study
                        : await session.Events.AggregateStreamAsync(studyStreamId, state: cached.Study, fromVersion: cached.Version + 1, token: cancellation);
                    var register = await session.Events.FetchForExclusiveWriting<StudyOrderRegister>(registerId, cancellation);
                    cache.Hit();
                    return new StoreLoads(new StudyWrite(session, studyStreamId, study, locked.Version, epoch, null), register);
                }
            }

            cache.Forget(session.TenantId, studyStreamId);
        }

        var batch = session.CreateBatchQuery();
        var fetched = batch.Events.FetchForExclusiveWriting<Study>(studyStreamId);
        var registerFetched = batch.Events.FetchForExclusiveWriting<StudyOrderRegister>(registerId);
        await batch.Execute(cancellation);
        var stream = await fetched;
        return new StoreLoads(new StudyWrite(session, studyStreamId, stream.Aggregate, stream.CurrentVersion ?? 0, epoch, stream), await registerFetched);
    }

    /// <summary>The study's stream row locked until commit: its version, and the erasure epoch. Null when the stream does not exist.</summary>
    private static async Task<(long Version, long Epoch)?> LockAsync(IDocumentSession session, Guid studyStreamId, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(
            $"select s.version, ({EpochSql(session)}) from {session.DocumentStore.Options.Events.DatabaseSchemaName}.mt_streams s " +
            "where s.id = $1 and s.tenant_id = $2 for update of s",
            session.Connection)
        {
            Parameters = { new() { Value = studyStreamId }, new() { Value = session.TenantId } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        return await reader.ReadAsync(cancellation) ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    /// <summary>The erasure epoch: how many times the sequence was advanced.</summary>
    private static string EpochSql(IDocumentSession session) =>
        $"select case when e.is_called then e.last_value else 0 end from {session.DocumentStore.Options.Events.DatabaseSchemaName}.{StudyWriteCache.EpochSequence} e";
}
