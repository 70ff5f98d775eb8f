using Marten;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// The upgrades of tables whose shape changed (<see cref="QidoSchemaUpgrade"/>, <see cref="LocationSchemaUpgrade"/>,
/// <see cref="FeedAndBlobSchemaUpgrade"/>),
/// in order, before Marten compares the schema: one entry for the host (<see cref="OnStartup"/>) and the tenant command.
/// </summary>
public static class SchemaUpgrades
{
    public static async Task ApplyAsync(IDocumentStore store, NpgsqlDataSource dataSource, string schema, ILoggerFactory loggers, CancellationToken cancellation)
    {
        await QidoSchemaUpgrade.ApplyAsync(dataSource, schema, loggers.CreateLogger(nameof(QidoSchemaUpgrade)), cancellation);
        await LocationSchemaUpgrade.ApplyAsync(dataSource, schema, loggers.CreateLogger(nameof(LocationSchemaUpgrade)), cancellation);
        await FeedAndBlobSchemaUpgrade.ApplyAsync(store, dataSource, schema, loggers.CreateLogger(nameof(FeedAndBlobSchemaUpgrade)), cancellation);
    }

    /// <summary>A timestamp's text cut to microseconds (<c>regexp_replace(text, Microseconds, '\1')</c>), as Npgsql writes a DateTimeOffset: the text cast as it is would round.</summary>
    internal const string Microseconds = @"(\.[0-9]{6})[0-9]+";

    /// <summary>
    /// Sets <paramref name="set"/> on the rows of <paramref name="table"/> (keyed by tenant and a UUID, aliased <c>d</c>) that
    /// match <paramref name="unfilled"/>, in key order, <see cref="QidoSchemaUpgrade.BatchSize"/> keys a statement (each its own
    /// short transaction: a stop half-way resumes where it was, and writers on other nodes are never held for long).
    /// Returns the rows set.
    /// </summary>
    internal static async Task<long> FillAsync(NpgsqlConnection connection, string table, string set, string unfilled, CancellationToken cancellation)
    {
        var filled = 0L;
        (string Tenant, Guid Id)? after = null;
        while (true)
        {
            await using var batch = connection.CreateCommand();
            batch.CommandTimeout = 0;
            batch.CommandText = $"""
                with keys as (select tenant_id, id from {table} {(after is null ? "" : "where (tenant_id, id) > (@tenant, @id)")} order by tenant_id, id limit {QidoSchemaUpgrade.BatchSize}),
                     done as (update {table} d set {set} from keys where d.tenant_id = keys.tenant_id and d.id = keys.id and ({unfilled}) returning 1)
                select (select count(*) from done), (select tenant_id from keys order by tenant_id desc, id desc limit 1), (select id from keys order by tenant_id desc, id desc limit 1)
                """;
            if (after is { } key)
            {
                batch.Parameters.AddWithValue("tenant", key.Tenant);
                batch.Parameters.AddWithValue("id", key.Id);
            }

            await using var reader = await batch.ExecuteReaderAsync(cancellation);
            await reader.ReadAsync(cancellation);
            filled += reader.GetInt64(0);
            if (reader.IsDBNull(1))
            {
                return filled;
            }

            after = (reader.GetString(1), reader.GetGuid(2));
        }
    }

    /// <summary>A statement with no time limit (an upgrade of a large table may take minutes).</summary>
    internal static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellation);
    }

    /// <summary>How many of <paramref name="columns"/> the table <c>{schema}.{table}</c> has (0 when there is no such table).</summary>
    internal static Task<long> ColumnsPresentAsync(NpgsqlConnection connection, string schema, string table, string[] columns, CancellationToken cancellation) =>
        ScalarAsync<long>(connection,
            "select count(*) from information_schema.columns where table_schema = @schema and table_name = @table and column_name = any(@names)",
            cancellation, ("schema", schema), ("table", table), ("names", columns));

    /// <summary>A catalogue query's one value (the type's default for SQL null).</summary>
    internal static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellation, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var result = await command.ExecuteScalarAsync(cancellation);
        return result is DBNull or null ? default! : (T)result;
    }

    /// <summary>
    /// Runs the upgrades when the host starts, before Marten applies its schema and before the daemon runs: in
    /// the starting phase, which every hosted service passes before any is started, and registered ahead of Marten.
    /// </summary>
    public sealed class OnStartup(IServiceProvider services, NpgsqlDataSource dataSource, IOptions<EventStoreOptions> options, ILoggerFactory loggers)
        : IHostedLifecycleService
    {
        public Task StartingAsync(CancellationToken cancellationToken) =>
            ApplyAsync(services.GetRequiredService<IDocumentStore>(), dataSource, options.Value.Schema, loggers, cancellationToken);

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
