using EventSourced.Application.Blobs;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Builds <see cref="EventBlobNames"/>' index on the event table in the background once the host has started (a hosted
/// service registered after Marten's, which applies the schema first). Marten leaves the index alone
/// (<c>Events.IgnoreIndex</c>): it is ours. A catalogue query when it is there and valid. Otherwise it is built
/// <c>CONCURRENTLY</c>: appends by this node and by other nodes go on while it reads the log, and the service answers
/// meanwhile (the build waits for every transaction older than it, so it is not done on the start-up path). One node
/// builds at a time (a session advisory lock; the next one finds it built). A build that stopped half-way (the host
/// stopped, the server restarted) leaves an invalid index, which PostgreSQL keeps up to date but never reads: it is
/// dropped and built again. Until the index is valid the statements that use it are right, only slow.
/// </summary>
public sealed class EventBlobNamesIndex(NpgsqlDataSource dataSource, IOptions<EventStoreOptions> options, ILogger<EventBlobNamesIndex> logger)
    : BackgroundService
{
    /// <summary>The advisory lock the builders take (any constant of ours: the text's hash).</summary>
    private const string LockKey = "hashtext('eventsourced.mt_events_blob_names')";

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
                logger.LogWarning(e, "The index {Index} was not built; the next start builds it", EventBlobNames.IndexName);
            }
        }
    }

    /// <summary>True when the index is there and valid afterwards; false when there is no event table.</summary>
    public static async Task<bool> ApplyAsync(NpgsqlDataSource dataSource, string schema, ILogger logger, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        if (await ValidAsync(connection, schema, cancellation) is true)
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
            // Another node may have built it while this one waited for the lock.
            switch (await ValidAsync(connection, schema, cancellation))
            {
                case true:
                    return true;
                case false:
                    logger.LogWarning("The index {Index} was left invalid by a build that stopped; building it again", EventBlobNames.IndexName);
                    await SchemaUpgrades.ExecuteAsync(connection, $"drop index concurrently if exists \"{schema}\".{EventBlobNames.IndexName}", cancellation);
                    break;
            }

            var started = System.Diagnostics.Stopwatch.StartNew();
            await SchemaUpgrades.ExecuteAsync(connection, EventBlobNames.CreateIndex(schema), cancellation);
            logger.LogInformation("Built the index {Index} of the blobs each event names in {Elapsed}", EventBlobNames.IndexName, started.Elapsed);
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

    /// <summary>Whether the index is valid (PostgreSQL reads it), or null when there is none.</summary>
    private static Task<bool?> ValidAsync(NpgsqlConnection connection, string schema, CancellationToken cancellation) =>
        SchemaUpgrades.ScalarAsync<bool?>(connection,
            $"select i.indisvalid from pg_index i where i.indexrelid = to_regclass('\"{schema}\".{EventBlobNames.IndexName}')", cancellation);
}
