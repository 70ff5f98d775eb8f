using EventSourced.Projections.Qido;
using EventSourced.Projections.Studies;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace EventSourced.Web.Shared.Retrieval;

/// <summary>
/// The reads of the two hot retrievals (WADO-RS instance, study metadata), as prepared SQL on a connection pool of
/// their own, not through a Marten session (docs/architecture.md, "Retrieval: reads by key on a pool of their own"):
/// a study stream's state, read first in every round trip; one instance's <see cref="InstanceLocation"/>; the
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

    public RetrievalReads(RetrievalConnections connections, IDocumentStore store)
    {
        _connections = connections.DataSource;
        _serializer = store.Options.Serializer();
        // The columns Marten's FetchStreamState reads for a study's stamp (conjoined tenancy: keyed by tenant and id).
        _streamState = $"select version, timestamp, created, is_archived from {store.Options.Events.DatabaseSchemaName}.mt_streams where tenant_id = $1 and id = $2";
        _location = $"select data from {Table<InstanceLocation>(store)} where tenant_id = $1 and id = $2";
        _study = $"select data from {Table<QidoStudy>(store)} where tenant_id = $1 and id = $2";
        // Of the study's record, what its metadata is served with: its UID and the patient a correction assigned it.
        _studyPatient = $"select data ->> '{nameof(QidoStudy.StudyInstanceUid)}', data -> '{nameof(QidoStudy.AssignedPatient)}' from {Table<QidoStudy>(store)} where tenant_id = $1 and id = $2";
        // The duplicated columns and order of the QIDO order index (study, series, instance number, SOP instance UID);
        // of the document, only what a study's metadata is written from (member names as Marten's serializer writes them).
        _headers = $"select series_instance_uid, sop_instance_uid, data ->> '{nameof(QidoInstance.TransferSyntaxUid)}', data -> '{nameof(QidoInstance.Header)}' from {Table<QidoInstance>(store)} where tenant_id = $1 and study_instance_uid = $2 order by series_instance_uid, instance_number, sop_instance_uid";
    }

    private RetrievalReads(RetrievalReads reads, NpgsqlConnection connection)
    {
        (_connections, _serializer, _streamState, _location, _study, _headers, _studyPatient) =
            (reads._connections, reads._serializer, reads._streamState, reads._location, reads._study, reads._headers, reads._studyPatient);
        _connection = connection;
    }

    /// <summary>
    /// The same reads on <paramref name="connection"/>, so they see what its open transaction wrote and has not
    /// committed: the start-up warm-up's (Infrastructure/RetrievalWarmUp), whose rows are rolled back. One read at a time.
    /// </summary>
    public RetrievalReads On(NpgsqlConnection connection) => new(this, connection);

    private NpgsqlCommand CreateCommand(string sql) => _connection is { } connection ? new NpgsqlCommand(sql, connection) : _connections.CreateCommand(sql);

    private NpgsqlBatch CreateBatch() => _connection is { } connection ? new NpgsqlBatch(connection) : _connections.CreateBatch();

    private static string Table<T>(IDocumentStore store) => store.Options.FindOrResolveDocumentType(typeof(T)).TableName.QualifiedName;

    /// <summary>The stamp of <paramref name="studyUid"/>'s stream (null when there is none, or it is archived).</summary>
    public async Task<StudyStamp?> StudyStampAsync(string tenantId, string studyUid, CancellationToken cancellation)
    {
        await using var command = CreateCommand(_streamState);
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
        var (stamp, location, _) = await InstanceAsync(tenantId, studyUid, sopInstanceUid, withStudy: false, cancellation);
        return (stamp, location);
    }

    /// <summary>
    /// The stamp of <paramref name="studyUid"/>'s stream, read first, the location of <paramref name="sopInstanceUid"/>
    /// and the study's record under its key (each null when not stored), in one round trip: a study's first retrieval
    /// on a node, whose corrections are not kept yet.
    /// </summary>
    public Task<(StudyStamp? Stamp, InstanceLocation? Location, QidoStudy? Study)> InstanceWithStudyAsync(string tenantId, string studyUid, string sopInstanceUid, CancellationToken cancellation) =>
        InstanceAsync(tenantId, studyUid, sopInstanceUid, withStudy: true, cancellation);

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
        await using var batch = CreateBatch();
        batch.BatchCommands.Add(Command(_streamState, tenantId, key));
        batch.BatchCommands.Add(Command(_headers, tenantId, studyUid));
        batch.BatchCommands.Add(Command(_studyPatient, tenantId, key));

        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        var stamp = await reader.ReadAsync(cancellation) ? Stamp(reader) : null;
        await reader.NextResultAsync(cancellation);
        var instances = new List<StudyHeader>();
        while (await reader.ReadAsync(cancellation))
        {
            instances.Add(new StudyHeader(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? throw new InvalidOperationException($"Instance {reader.GetString(1)} has no header.") : reader.GetFieldValue<byte[]>(3)));
        }

        await reader.NextResultAsync(cancellation);
        var study = await reader.ReadAsync(cancellation) && !reader.IsDBNull(0)
            ? new StudyPatient(reader.GetString(0), reader.IsDBNull(1) ? null : _serializer.FromJson<Domain.Patients.PatientDemographics?>(reader, 1))
            : null;
        return (stamp, instances, study);
    }

    private async Task<(StudyStamp? Stamp, InstanceLocation? Location, QidoStudy? Study)> InstanceAsync(
        string tenantId, string studyUid, string sopInstanceUid, bool withStudy, CancellationToken cancellation)
    {
        var key = Domain.Studies.Study.StreamId(tenantId, studyUid);
        await using var batch = CreateBatch();
        batch.BatchCommands.Add(Command(_streamState, tenantId, key));
        batch.BatchCommands.Add(Command(_location, tenantId, sopInstanceUid));
        if (withStudy)
        {
            batch.BatchCommands.Add(Command(_study, tenantId, key));
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        var stamp = await reader.ReadAsync(cancellation) ? Stamp(reader) : null;
        await reader.NextResultAsync(cancellation);
        var found = await reader.ReadAsync(cancellation) ? _serializer.FromJson<InstanceLocation>(reader, 0) : null;
        QidoStudy? study = null;
        if (withStudy)
        {
            await reader.NextResultAsync(cancellation);
            study = await reader.ReadAsync(cancellation) ? _serializer.FromJson<QidoStudy>(reader, 0) : null;
        }

        return (stamp, found, study);
    }

    /// <summary>A statement by tenant and one key (the tables are conjoined: every key is unique within a tenant only).</summary>
    private static NpgsqlBatchCommand Command<TKey>(string sql, string tenantId, TKey key)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = tenantId });
        command.Parameters.Add(new NpgsqlParameter<TKey> { TypedValue = key });
        return command;
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
                await InstanceWithStudyAsync("", "0", "0", cancellation);
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
/// lock, temporary table, <c>SET</c> or <c>LISTEN</c> can be left on a connection for the next request.
/// </summary>
public sealed class RetrievalConnections(string connectionString) : IDisposable
{
    public NpgsqlDataSource DataSource { get; } = Build(connectionString);

    private static NpgsqlDataSource Build(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        builder.ConnectionStringBuilder.MaxAutoPrepare = 8;
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        builder.ConnectionStringBuilder.ApplicationName ??= "retrieval";
        return builder.Build();
    }

    public void Dispose() => DataSource.Dispose();
}
