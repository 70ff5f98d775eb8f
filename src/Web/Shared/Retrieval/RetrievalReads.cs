using EventSourced.Projections.Qido;
using EventSourced.Projections.Studies;
using EventSourced.Web.Infrastructure;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace EventSourced.Web.Shared.Retrieval;

/// <summary>
/// The reads of the two hot retrievals (WADO-RS instance, study metadata), as prepared SQL on a connection pool of
/// their own, not through a Marten session (docs/architecture.md, "Retrieval: reads by key on a pool of their own"):
/// a study stream's state, read first in every round trip; one instance's <see cref="InstanceLocation"/> (the location
/// columns of its <see cref="QidoInstance"/> row, never its header); the
/// study's record (<see cref="QidoStudy"/>, by its key: the corrections it is served with); the headers of the study's
/// instance records in the order of the QIDO order index. The documents are read as Marten stored them (its tables, its
/// serializer, conjoined tenancy). Marten still does every other read (series and instance metadata, XML, a
/// study record not found under its key).
/// </summary>
public sealed class RetrievalReads
{
    private readonly NpgsqlDataSource _connections;

    /// <summary>Set only on the start-up warm-up's copy (<see cref="On"/>): every read on this one connection.</summary>
    private readonly NpgsqlConnection? _connection;
    private readonly Marten.ISerializer _serializer;
    private readonly string _streamState;
    private readonly string _location;
    private readonly string _study;
    private readonly string _headers;
    private readonly string _studyPatient;
    private readonly ReusableBatches _stampOnly;
    private readonly ReusableBatches _instance;
    private readonly ReusableBatches _instanceWithStudy;
    private readonly ReusableBatches _studyMetadata;

    public RetrievalReads(RetrievalConnections connections, IDocumentStore store)
    {
        _connections = connections.DataSource;
        _serializer = store.Options.Serializer();
        // The columns Marten's FetchStreamState reads for a study's stamp (conjoined tenancy: keyed by tenant and id).
        _streamState = $"select version, timestamp, created, is_archived from {store.Options.Events.DatabaseSchemaName}.mt_streams where tenant_id = $1 and id = $2";
        // The instance's record by its key (the study's stream and the SOP Instance UID, QidoKeys.Instance), in the study
        // and series asked: its location columns only, never its header.
        _location = $"select sop_class_uid, transfer_syntax_uid, {QidoRegistration.BlobSha256Column}, {QidoRegistration.BlobLengthColumn}, instance_number, stored_at " +
                    $"from {Table<QidoInstance>(store)} where tenant_id = $1 and id = $2 and study_instance_uid = $3 and series_instance_uid = $4";
        _study = $"select data from {Table<QidoStudy>(store)} where tenant_id = $1 and id = $2";
        // Of the study's record, what its metadata is served with: its UID and the patient a correction assigned it.
        _studyPatient = $"select data ->> '{nameof(QidoStudy.StudyInstanceUid)}', data -> '{nameof(QidoStudy.AssignedPatient)}' from {Table<QidoStudy>(store)} where tenant_id = $1 and id = $2";
        // The duplicated columns and order of the QIDO order index (study, series, instance number, SOP instance UID);
        // of the document, only what a study's metadata is written from (member names as Marten's serializer writes them).
        _headers = $"select series_instance_uid, sop_instance_uid, data ->> '{nameof(QidoInstance.TransferSyntaxUid)}', {QidoInstance.HeaderText("d")} from {Table<QidoInstance>(store)} d where tenant_id = $1 and study_instance_uid = $2 order by series_instance_uid, instance_number, sop_instance_uid";
        _stampOnly = new(new Statement(_streamState, typeof(Guid)));
        _instance = new(new Statement(_streamState, typeof(Guid)), new Statement(_location, typeof(Guid), typeof(string), typeof(string)));
        _instanceWithStudy = new(new Statement(_streamState, typeof(Guid)), new Statement(_location, typeof(Guid), typeof(string), typeof(string)), new Statement(_study, typeof(Guid)));
        _studyMetadata = new(new Statement(_streamState, typeof(Guid)), new Statement(_headers, typeof(string)), new Statement(_studyPatient, typeof(Guid)));
    }

    private RetrievalReads(RetrievalReads reads, NpgsqlConnection connection)
    {
        (_connections, _serializer, _streamState, _location, _study, _headers, _studyPatient) =
            (reads._connections, reads._serializer, reads._streamState, reads._location, reads._study, reads._headers, reads._studyPatient);
        (_stampOnly, _instance, _instanceWithStudy, _studyMetadata) = (reads._stampOnly, reads._instance, reads._instanceWithStudy, reads._studyMetadata);
        _connection = connection;
    }

    /// <summary>
    /// The same reads on <paramref name="connection"/>, so they see what its open transaction wrote and has not
    /// committed: the start-up warm-up's (Infrastructure/RetrievalWarmUp), whose rows are rolled back. One read at a time.
    /// </summary>
    public RetrievalReads On(NpgsqlConnection connection) => new(this, connection);

    /// <summary>A connection of the pool (returned when disposed), or the warm-up's own (left open).</summary>
    private async ValueTask<Lease> OpenAsync(CancellationToken cancellation) =>
        _connection is { } own ? new Lease(own, Owned: false) : new Lease(await _connections.OpenConnectionAsync(cancellation), Owned: true);

    private readonly record struct Lease(NpgsqlConnection Connection, bool Owned) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Owned ? Connection.DisposeAsync() : ValueTask.CompletedTask;
    }

    private static string Table<T>(IDocumentStore store) => store.Options.FindOrResolveDocumentType(typeof(T)).TableName.QualifiedName;

    /// <summary>The stamp of <paramref name="studyUid"/>'s stream (null when there is none, or it is archived).</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<StudyStamp?> StudyStampAsync(string tenantId, string studyUid, CancellationToken cancellation)
    {
        var batch = _stampOnly.Rent();
        batch.Bind(0, tenantId, Domain.Studies.Study.StreamId(tenantId, studyUid));
        await using var connection = await OpenAsync(cancellation);
        StudyStamp? stamp;
        await using (var reader = await batch.ExecuteAsync(connection.Connection, cancellation))
        {
            stamp = await reader.ReadAsync(cancellation) ? Stamp(reader) : null;
        }

        _stampOnly.Return(batch);
        return stamp;
    }

    /// <summary>
    /// The stamp of <paramref name="studyUid"/>'s stream, read first, and the location of
    /// <paramref name="sopInstanceUid"/> in series <paramref name="seriesUid"/> of that study (null when not stored there), in one round trip.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<(StudyStamp? Stamp, InstanceLocation? Location)> InstanceAsync(string tenantId, string studyUid, string seriesUid, string sopInstanceUid, CancellationToken cancellation)
    {
        var (stamp, location, _) = await InstanceAsync(tenantId, studyUid, seriesUid, sopInstanceUid, withStudy: false, cancellation);
        return (stamp, location);
    }

    /// <summary>
    /// The stamp of <paramref name="studyUid"/>'s stream, read first, the location of <paramref name="sopInstanceUid"/>
    /// in series <paramref name="seriesUid"/> of that study and the study's record under its key (each null when not stored), in one round trip: a study's first retrieval
    /// on a node, whose corrections are not kept yet.
    /// </summary>
    public ValueTask<(StudyStamp? Stamp, InstanceLocation? Location, QidoStudy? Study)> InstanceWithStudyAsync(string tenantId, string studyUid, string seriesUid, string sopInstanceUid, CancellationToken cancellation) =>
        InstanceAsync(tenantId, studyUid, seriesUid, sopInstanceUid, withStudy: true, cancellation);

    /// <summary>
    /// The stamp of <paramref name="studyUid"/>'s stream, read first, its instances' headers (in the order of the QIDO
    /// order index: series, instance number, SOP instance UID) and its record under its key (null when not
    /// stored), in one round trip: what a study's metadata is rendered from. Each header is the UTF-8 text of the
    /// instance record's <see cref="QidoInstance.Header"/> as PostgreSQL prints it, never parsed here; of the study's
    /// record only its UID and <see cref="QidoStudy.AssignedPatient"/> are read.
    /// </summary>
    public async Task<(StudyStamp? Stamp, IReadOnlyList<StudyHeader> Instances, StudyPatient? Study)> StudyMetadataAsync(string tenantId, string studyUid, CancellationToken cancellation)
    {
        var key = Domain.Studies.Study.StreamId(tenantId, studyUid);
        var batch = _studyMetadata.Rent();
        batch.Bind(0, tenantId, key);
        batch.Bind(1, tenantId, studyUid);
        batch.Bind(2, tenantId, key);
        await using var connection = await OpenAsync(cancellation);
        StudyStamp? stamp;
        var instances = new List<StudyHeader>();
        StudyPatient? study;
        await using (var reader = await batch.ExecuteAsync(connection.Connection, cancellation))
        {
            stamp = await reader.ReadAsync(cancellation) ? Stamp(reader) : null;
            await reader.NextResultAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                instances.Add(new StudyHeader(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? throw new InvalidOperationException($"Instance {reader.GetString(1)} has no header.") : reader.GetFieldValue<byte[]>(3)));
            }

            await reader.NextResultAsync(cancellation);
            study = await reader.ReadAsync(cancellation) && !reader.IsDBNull(0)
                ? new StudyPatient(reader.GetString(0), reader.IsDBNull(1) ? null : _serializer.FromJson<Domain.Patients.PatientDemographics?>(reader, 1))
                : null;
        }

        _studyMetadata.Return(batch);
        return (stamp, instances, study);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(StudyStamp? Stamp, InstanceLocation? Location, QidoStudy? Study)> InstanceAsync(
        string tenantId, string studyUid, string seriesUid, string sopInstanceUid, bool withStudy, CancellationToken cancellation)
    {
        var key = Domain.Studies.Study.StreamId(tenantId, studyUid);
        var batches = withStudy ? _instanceWithStudy : _instance;
        var batch = batches.Rent();
        batch.Bind(0, tenantId, key);
        batch.Bind(1, tenantId, QidoKeys.Instance(key, sopInstanceUid), studyUid, seriesUid);
        if (withStudy)
        {
            batch.Bind(2, tenantId, key);
        }

        await using var connection = await OpenAsync(cancellation);
        StudyStamp? stamp;
        InstanceLocation? found;
        QidoStudy? study = null;
        await using (var reader = await batch.ExecuteAsync(connection.Connection, cancellation))
        {
            stamp = await reader.ReadAsync(cancellation) ? Stamp(reader) : null;
            await reader.NextResultAsync(cancellation);
            found = await reader.ReadAsync(cancellation) ? Location(reader, studyUid, seriesUid, sopInstanceUid) : null;
            if (withStudy)
            {
                await reader.NextResultAsync(cancellation);
                study = await reader.ReadAsync(cancellation) ? _serializer.FromJson<QidoStudy>(reader, 0) : null;
            }
        }

        batches.Return(batch);
        return (stamp, found, study);
    }

    /// <summary>The location of an instance from <see cref="_location"/>'s columns; its UIDs are the ones it was read by.</summary>
    private static InstanceLocation Location(NpgsqlDataReader reader, string studyUid, string seriesUid, string sopInstanceUid) => new()
    {
        Id = sopInstanceUid,
        StudyInstanceUid = studyUid,
        SeriesInstanceUid = seriesUid,
        SopClassUid = reader.GetString(0),
        TransferSyntaxUid = reader.GetString(1),
        Sha256 = reader.GetString(2),
        Length = reader.GetInt64(3),
        InstanceNumber = reader.IsDBNull(4) ? null : reader.GetInt32(4),
        StoredAt = reader.GetFieldValue<DateTimeOffset>(5),
    };

    /// <summary>A statement by tenant and keys of the types <see cref="Keys"/> (the tables are conjoined: every key is unique within a tenant only).</summary>
    private sealed record Statement(string Sql, params Type[] Keys);

    /// <summary>
    /// Batches of one shape (its statements, each with its tenant and key parameters) built once and used again by
    /// request after request: a use binds the values and runs the batch on a connection of the pool, and the batch
    /// comes back only when the use completed (a failed one is dropped). A few are kept; more are built when needed.
    /// </summary>
    private sealed class ReusableBatches(params Statement[] statements)
    {
        private readonly Batch?[] _kept = new Batch?[16];

        public Batch Rent()
        {
            for (var i = 0; i < _kept.Length; i++)
            {
                if (Interlocked.Exchange(ref _kept[i], null) is { } batch)
                {
                    return batch;
                }
            }

            return new Batch(statements);
        }

        public void Return(Batch batch)
        {
            batch.Release();
            for (var i = 0; i < _kept.Length; i++)
            {
                if (Interlocked.CompareExchange(ref _kept[i], batch, null) is null)
                {
                    return;
                }
            }
        }
    }

    private sealed class Batch
    {
        private readonly NpgsqlBatch _batch = new();

        public Batch(Statement[] statements)
        {
            foreach (var statement in statements)
            {
                var command = new NpgsqlBatchCommand(statement.Sql);
                command.Parameters.Add(new NpgsqlParameter<string>());
                foreach (var key in statement.Keys)
                {
                    command.Parameters.Add(key == typeof(Guid) ? new NpgsqlParameter<Guid>() : new NpgsqlParameter<string>());
                }
                _batch.BatchCommands.Add(command);
            }
        }

        public void Bind<TKey>(int statement, string tenantId, TKey key)
        {
            var parameters = _batch.BatchCommands[statement].Parameters;
            ((NpgsqlParameter<string>)parameters[0]).TypedValue = tenantId;
            ((NpgsqlParameter<TKey>)parameters[1]).TypedValue = key;
        }

        public void Bind<TKey>(int statement, string tenantId, TKey key, string second, string third)
        {
            Bind(statement, tenantId, key);
            var parameters = _batch.BatchCommands[statement].Parameters;
            ((NpgsqlParameter<string>)parameters[2]).TypedValue = second;
            ((NpgsqlParameter<string>)parameters[3]).TypedValue = third;
        }

        public Task<NpgsqlDataReader> ExecuteAsync(NpgsqlConnection connection, CancellationToken cancellation)
        {
            _batch.Connection = connection;
            return _batch.ExecuteReaderAsync(cancellation);
        }

        /// <summary>Lets go of the connection (and of the values bound: nothing of a request stays on a kept batch).</summary>
        public void Release()
        {
            _batch.Connection = null;
            for (var c = 0; c < _batch.BatchCommands.Count; c++)
            {
                var parameters = _batch.BatchCommands[c].Parameters;
                for (var p = 0; p < parameters.Count; p++)
                {
                    if (parameters[p] is NpgsqlParameter<string> text)
                    {
                        text.TypedValue = null;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Opens <paramref name="connections"/> of the pool and prepares every statement on each (they match nothing),
    /// at start-up: else the first retrievals of a fresh server would each open a connection (SCRAM authentication
    /// included) and compile this path.
    /// </summary>
    public Task WarmUpAsync(int connections, CancellationToken cancellation) =>
        Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            for (var i = 0; i < 2; i++)
            {
                await InstanceWithStudyAsync("", "0", "0", "0", cancellation);
                await StudyMetadataAsync("", "0", cancellation);
                await StudyStampAsync("", "0", cancellation);
            }
        }));

    private static StudyStamp? Stamp(NpgsqlDataReader reader) =>
        !reader.IsDBNull(3) && reader.GetBoolean(3)
            ? null
            : new StudyStamp(reader.IsDBNull(0) ? 0 : reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<DateTimeOffset>(2));
}

/// <summary>One instance of a study as its metadata is written from it: the header is UTF-8 JSON (PS3.18 Annex F, bulk data left out).</summary>
public sealed record StudyHeader(string SeriesInstanceUid, string SopInstanceUid, string? TransferSyntaxUid, byte[] Header);

/// <summary>Of a study's record (<see cref="QidoStudy"/>), its UID and the patient a correction assigned it (null when none did).</summary>
public sealed record StudyPatient(string StudyInstanceUid, Domain.Patients.PatientDemographics? AssignedPatient);

/// <summary>
/// The pool of <see cref="RetrievalReads"/>: the service's connection string, its connections returned without
/// Npgsql's session reset (<c>No Reset On Close</c>) and their statements prepared once per connection. Safe
/// because nothing but <see cref="RetrievalReads"/>' read-only statements ever runs on them: no advisory
/// lock, temporary table, <c>SET</c> or <c>LISTEN</c> can be left on a connection for the next request. No GSS probe
/// unless asked for, as on the service's own data source (<see cref="Infrastructure.ConnectionDefaults.WithoutGssProbe"/>).
/// </summary>
public sealed class RetrievalConnections(string connectionString) : IDisposable
{
    public NpgsqlDataSource DataSource { get; } = Build(connectionString);

    private static NpgsqlDataSource Build(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString).WithoutGssProbe(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        builder.ConnectionStringBuilder.MaxAutoPrepare = 8;
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        builder.ConnectionStringBuilder.ApplicationName ??= "retrieval";
        return builder.Build();
    }

    public void Dispose() => DataSource.Dispose();
}
