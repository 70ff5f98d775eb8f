using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// The event log's <c>data</c> column compressed as <c>EventStore:EventLogCompression</c> says (docs/architecture.md,
/// "STOW: the event log compressed with lz4"): <c>pglz</c>, PostgreSQL's default and ours, or <c>lz4</c>. Every
/// <c>InstanceStored</c> carries the instance's header (about 2.7 KB as jsonb), so every append compresses one; pglz
/// took about 40–70 µs of PostgreSQL's CPU more per row than lz4 here, and lz4 cost about 360 bytes more per stored
/// instance (four event rows a page instead of five): the default keeps the bytes. Runs once Marten has created the
/// table (a hosted service registered after Marten's, whose start applies the schema): a catalogue query when the
/// column already uses the method; otherwise one <c>ALTER TABLE … SET COMPRESSION</c>, which rewrites nothing (rows
/// already written keep theirs, and both read alike) but holds the table's exclusive lock for a moment (waiting at
/// most 2 s for it). A server built without lz4, or a lock not had in time, keeps what it has, with a warning.
/// </summary>
public sealed class EventLogCompression(NpgsqlDataSource dataSource, IOptions<EventStoreOptions> options, ILogger<EventLogCompression> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken) =>
        await ApplyAsync(dataSource, options.Value.Schema, options.Value.EventLogCompression, logger, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// True when the column uses <paramref name="method"/> (<c>lz4</c> or <c>pglz</c>) afterwards; false when there is
    /// no event table yet, the server has no lz4, or the table's lock was not had in time.
    /// </summary>
    public static async Task<bool> ApplyAsync(NpgsqlDataSource dataSource, string schema, string method, ILogger logger, CancellationToken cancellation)
    {
        // pg_attribute.attcompression: 'l' lz4, 'p' pglz, empty for the server's default (pglz unless configured otherwise).
        string[] done = method switch
        {
            "lz4" => ["l"],
            "pglz" => ["p", ""],
            _ => throw new InvalidOperationException($"EventStore:EventLogCompression is '{method}': 'pglz' (the default) or 'lz4'."),
        };
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        var table = $"\"{schema}\".mt_events";
        var current = await SchemaUpgrades.ScalarAsync<string?>(connection,
            $"select a.attcompression::text from pg_attribute a where a.attrelid = to_regclass('{table}') and a.attname = 'data'", cancellation);
        if (current is null)
        {
            return false;
        }

        if (done.Contains(current))
        {
            return true;
        }

        try
        {
            // The change takes the table's exclusive lock for a moment: on a database another node is writing to,
            // it does not queue every append behind a long transaction; the next start tries again.
            await SchemaUpgrades.ExecuteAsync(connection, $"set lock_timeout = '2s'; alter table {table} alter column data set compression {method}", cancellation);
            return true;
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.FeatureNotSupported or PostgresErrorCodes.LockNotAvailable)
        {
            logger.LogWarning("The event log's compression stays as it is for now, not {Method}: {Message}", method, e.MessageText);
            return false;
        }
    }
}
