using EventSourced.Projections.Studies;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace EventSourced.Web.Shared.Retrieval;

/// <summary>
/// The two reads by key that every warm retrieval makes (a study stream's state; that and one instance's
/// <see cref="InstanceLocation"/>), as prepared SQL on a connection pool of their own, not through a Marten
/// session: the fixed cost of a request that is otherwise answered from a file or a kept rendering
/// (docs/architecture.md, "Retrieval: reads by key on a pool of their own"). The documents are read as Marten
/// stored them (its table, its serializer); Marten still does every other read, the first one of a study on
/// a node included.
/// </summary>
public sealed class RetrievalReads
{
    private readonly NpgsqlDataSource _connections;
    private readonly Marten.ISerializer _serializer;
    private readonly string _streamState;
    private readonly string _location;

    public RetrievalReads(RetrievalConnections connections, IDocumentStore store)
    {
        _connections = connections.DataSource;
        _serializer = store.Options.Serializer();
        // The columns Marten's FetchStreamState reads for a study's stamp (conjoined tenancy: keyed by tenant and id).
        _streamState = $"select version, timestamp, created, is_archived from {store.Options.Events.DatabaseSchemaName}.mt_streams where tenant_id = $1 and id = $2";
        _location = $"select data from {store.Options.FindOrResolveDocumentType(typeof(InstanceLocation)).TableName.QualifiedName} where tenant_id = $1 and id = $2";
    }

    /// <summary>The stamp of <paramref name="studyUid"/>'s stream (null when there is none, or it is archived).</summary>
    public async Task<StudyStamp?> StudyStampAsync(string tenantId, string studyUid, CancellationToken cancellation)
    {
        await using var command = _connections.CreateCommand(_streamState);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = tenantId });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Domain.Studies.Study.StreamId(tenantId, studyUid) });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SingleRow, cancellation);
        return await reader.ReadAsync(cancellation) ? Stamp(reader) : null;
    }

    /// <summary>
    /// The stamp of <paramref name="studyUid"/>'s stream, read first, and the location of
    /// <paramref name="sopInstanceUid"/> (null when not stored), in one round trip.
    /// </summary>
    public async Task<(StudyStamp? Stamp, InstanceLocation? Location)> InstanceAsync(string tenantId, string studyUid, string sopInstanceUid, CancellationToken cancellation)
    {
        await using var batch = _connections.CreateBatch();
        var state = new NpgsqlBatchCommand(_streamState);
        state.Parameters.Add(new NpgsqlParameter<string> { TypedValue = tenantId });
        state.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Domain.Studies.Study.StreamId(tenantId, studyUid) });
        var location = new NpgsqlBatchCommand(_location);
        location.Parameters.Add(new NpgsqlParameter<string> { TypedValue = tenantId });
        location.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sopInstanceUid });
        batch.BatchCommands.Add(state);
        batch.BatchCommands.Add(location);

        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        var stamp = await reader.ReadAsync(cancellation) ? Stamp(reader) : null;
        await reader.NextResultAsync(cancellation);
        var found = await reader.ReadAsync(cancellation) ? _serializer.FromJson<InstanceLocation>(reader, 0) : null;
        return (stamp, found);
    }

    /// <summary>
    /// Opens <paramref name="connections"/> of the pool and prepares both statements on each (they match nothing),
    /// at start-up: else the first retrievals of a fresh server would each open a connection (SCRAM authentication
    /// included) and compile this path.
    /// </summary>
    public Task WarmUpAsync(int connections, CancellationToken cancellation) =>
        Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            for (var i = 0; i < 2; i++)
            {
                await InstanceAsync("", "0", "0", cancellation);
                await StudyStampAsync("", "0", cancellation);
            }
        }));

    private static StudyStamp? Stamp(NpgsqlDataReader reader) =>
        !reader.IsDBNull(3) && reader.GetBoolean(3)
            ? null
            : new StudyStamp(reader.IsDBNull(0) ? 0 : reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<DateTimeOffset>(2));
}

/// <summary>
/// The pool of <see cref="RetrievalReads"/>: the service's connection string, its connections returned without
/// Npgsql's session reset (<c>No Reset On Close</c>) and their statements prepared once per connection. Safe
/// because nothing but <see cref="RetrievalReads"/>' two read-only statements ever runs on them: no advisory
/// lock, temporary table, <c>SET</c> or <c>LISTEN</c> can be left on a connection for the next request.
/// </summary>
public sealed class RetrievalConnections(string connectionString) : IDisposable
{
    public NpgsqlDataSource DataSource { get; } = Build(connectionString);

    private static NpgsqlDataSource Build(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        builder.ConnectionStringBuilder.MaxAutoPrepare = 4;
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        builder.ConnectionStringBuilder.ApplicationName ??= "retrieval";
        return builder.Build();
    }

    public void Dispose() => DataSource.Dispose();
}
