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

    /// <summary>A statement with no time limit (an upgrade of a large table may take minutes).</summary>
    internal static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellation);
    }

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
