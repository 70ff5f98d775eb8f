using EventSourced.Application.Blobs;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using JasperFx.Events;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Our indexes on Marten's event table (<see cref="All"/>), built in the background once the host has started (a hosted
/// service registered after Marten's, which applies the schema first). Marten is told they are not its own
/// (<c>Events.IgnoreIndex</c>, <see cref="EventStoreSetup"/>): its migration would drop an index on <c>mt_events</c> it
/// does not declare. For each, a catalogue query when it is there and valid. Otherwise it is built <c>CONCURRENTLY</c>:
/// appends by this node and by other nodes go on while it reads the log, and the service answers meanwhile (the build
/// waits for every transaction older than it, so it is not done on the start-up path). One node builds at a time (a
/// session advisory lock; the next one finds them built). A build that stopped half-way (the host stopped, the server
/// restarted) leaves an invalid index, which PostgreSQL keeps up to date but never reads: it is dropped and built
/// again. Until an index is valid the statements that would use it are right, only slow.
/// </summary>
public sealed class EventLogIndexes(NpgsqlDataSource dataSource, IOptions<EventStoreOptions> options, ILogger<EventLogIndexes> logger)
    : BackgroundService
{
    /// <summary>The partial index of the event types read by type (<see cref="ReadByType"/>).</summary>
    public const string ReadByTypeIndexName = "mt_events_read_by_type";

    /// <summary>
    /// The event types read by type, all of them rare: an erasure's earlier erasures (<see cref="PatientErased"/>,
    /// <see cref="InstanceErased"/>), the list of erasures, and a new archive user's name checked against the
    /// registered ones (<see cref="ArchiveUserRegistered"/>). A partial index holds those rows only: the log's other events
    /// (nearly all of them stored instances) add no entry to it.
    /// </summary>
    public static readonly Type[] ReadByType = [typeof(PatientErased), typeof(InstanceErased), typeof(ArchiveUserRegistered)];

    /// <summary>Each index's name and its statement for a schema.</summary>
    public static IReadOnlyList<(string Name, Func<string, string> Create)> All { get; } =
    [
        (EventBlobNames.IndexName, EventBlobNames.CreateIndex),
        (ReadByTypeIndexName, schema =>
            $"create index concurrently if not exists {ReadByTypeIndexName} on \"{schema}\".mt_events (type, seq_id) " +
            $"where type in ({string.Join(", ", ReadByType.Select(t => $"'{t.GetEventTypeName()}'"))})"),
    ];

    /// <summary>The advisory lock the builders take (any constant of ours: the text's hash).</summary>
    private const string LockKey = "hashtext('eventsourced.mt_events indexes')";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await ApplyAsync(dataSource, options.Value.Schema, logger, stoppingToken);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException)
        {
            if (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "The event log's indexes were not all built; the next start builds them");
            }
        }
    }

    /// <summary>True when every index is there and valid afterwards; false when there is no event table.</summary>
    public static async Task<bool> ApplyAsync(NpgsqlDataSource dataSource, string schema, ILogger logger, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        if (await AllValidAsync(connection, schema, cancellation))
        {
            return true;
        }

        if (await SchemaUpgrades.ScalarAsync<bool>(connection, $"select to_regclass('\"{schema}\".mt_events') is null", cancellation))
        {
            return false;
        }

        await SchemaUpgrades.ExecuteAsync(connection, $"select pg_advisory_lock({LockKey})", cancellation);
        try
        {
            foreach (var (name, create) in All)
            {
                // Another node may have built it while this one waited for the lock.
                switch (await ValidAsync(connection, schema, name, cancellation))
                {
                    case true:
                        continue;
                    case false:
                        logger.LogWarning("The index {Index} was left invalid by a build that stopped; building it again", name);
                        await SchemaUpgrades.ExecuteAsync(connection, $"drop index concurrently if exists \"{schema}\".{name}", cancellation);
                        break;
                }

                var started = System.Diagnostics.Stopwatch.StartNew();
                await SchemaUpgrades.ExecuteAsync(connection, create(schema), cancellation);
                logger.LogInformation("Built the event log's index {Index} in {Elapsed}", name, started.Elapsed);
            }

            return true;
        }
        finally
        {
            // A connection broken by a cancelled build has lost the lock with its session.
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await SchemaUpgrades.ExecuteAsync(connection, $"select pg_advisory_unlock({LockKey})", CancellationToken.None);
            }
        }
    }

    private static async Task<bool> AllValidAsync(NpgsqlConnection connection, string schema, CancellationToken cancellation)
    {
        foreach (var (name, _) in All)
        {
            if (await ValidAsync(connection, schema, name, cancellation) is not true)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether the index is valid (PostgreSQL reads it), or null when there is none.</summary>
    private static Task<bool?> ValidAsync(NpgsqlConnection connection, string schema, string name, CancellationToken cancellation) =>
        SchemaUpgrades.ScalarAsync<bool?>(connection,
            $"select i.indisvalid from pg_index i where i.indexrelid = to_regclass('\"{schema}\".{name}')", cancellation);
}
