using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// The event log's <c>data</c> column compressed with lz4 instead of PostgreSQL's default pglz (docs/architecture.md,
/// "STOW: the event log compressed with lz4"). Every <c>InstanceStored</c> carries the instance's header (about
/// 2.7 KB as jsonb), so every append compresses one; pglz took about 40–70 µs of PostgreSQL's CPU more per row
/// than lz4 here, for about 110 bytes less. Runs once Marten has created the table (a hosted service registered
/// after Marten's, whose start applies the schema): a catalogue query when the column is already lz4; otherwise
/// one <c>ALTER TABLE … SET COMPRESSION</c>, which rewrites nothing (rows already written keep pglz, and both
/// read alike) but holds the table's exclusive lock for a moment (waiting at most 2 s for it). A server built
/// without lz4, or a lock not had in time, keeps pglz, with a warning.
/// </summary>
public sealed class EventLogCompression(NpgsqlDataSource dataSource, IOptions<EventStoreOptions> options, ILogger<EventLogCompression> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken) =>
        await ApplyAsync(dataSource, options.Value.Schema, logger, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>True when the column is lz4 afterwards; false when there is no event table yet or the server has no lz4.</summary>
    public static async Task<bool> ApplyAsync(NpgsqlDataSource dataSource, string schema, ILogger logger, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        var table = $"\"{schema}\".mt_events";
        var current = await SchemaUpgrades.ScalarAsync<string?>(connection,
            $"select a.attcompression::text from pg_attribute a where a.attrelid = to_regclass('{table}') and a.attname = 'data'", cancellation);
        switch (current)
        {
            case null:
                return false;
            case "l":
                return true;
        }

        try
        {
            // The change takes the table's exclusive lock for a moment: on a database another node is writing to,
            // it does not queue every append behind a long transaction; the next start tries again.
            await SchemaUpgrades.ExecuteAsync(connection, $"set lock_timeout = '2s'; alter table {table} alter column data set compression lz4", cancellation);
            return true;
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.FeatureNotSupported or PostgresErrorCodes.LockNotAvailable)
        {
            logger.LogWarning("The event log stays compressed with pglz for now: {Message}", e.MessageText);
            return false;
        }
    }
}
