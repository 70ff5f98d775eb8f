using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.Hosting;

/// <summary>
/// The storage decisions of docs/architecture.md ("Storage settings") hold on a database the service
/// created, survive Marten's schema application at the next start, and reach a database created before
/// them: a lookup index that a composite already serves is not created (or is dropped), the composites
/// keep their columns, the instance records' headers and the event log stay pglz (EventLogCompression's default). A Marten or
/// Weasel upgrade that puts an index back, or changes the compression, fails here.
/// </summary>
public sealed class StorageSettingsTests : IAsyncLifetime
{
    private const string Schema = "eventsourced";

    /// <summary>
    /// Single-column indexes whose column leads a composite index of the same table, and b-trees on the fuzzy
    /// person-name forms, which are only matched with a leading wildcard.
    /// </summary>
    private static readonly string[] Redundant =
    [
        "mt_doc_qidoinstance_idx_study_instance_uid",
        "mt_doc_qidoseries_idx_study_instance_uid",
        "mt_doc_archivestudy_idx_project",
        "mt_doc_archiveseries_idx_archive_study_id",
        "mt_doc_qidostudy_idx_patient_name_fuzzy",
        "mt_doc_qidostudy_idx_referring_physician_name_fuzzy",
    ];

    /// <summary>The composites that serve those lookups, with their columns in order.</summary>
    private static readonly Dictionary<string, string> Composites = new()
    {
        ["mt_doc_qidoinstance_idx_qido_order"] = "study_instance_uid, series_instance_uid, instance_number, sop_instance_uid",
        ["mt_doc_qidoseries_idx_qido_order"] = "study_instance_uid, series_number, series_instance_uid",
        ["mt_doc_archivestudy_idx_lookup"] = "project, archive, patient_id, study_instance_uid",
        ["mt_doc_archiveseries_idx_lookup"] = "archive_study_id, archive_series_uid",
    };

    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task A_fresh_database_has_the_composites_and_not_the_lookup_indexes_they_serve()
    {
        await using (var app = new AppFactory(database.ConnectionString))
        {
            app.CreateClient().Dispose(); // starts the host: Marten applies the schema at start-up
            await AssertStorageSettingsAsync();

            // Nothing left for the next start to change: the settings are what Marten's configuration says,
            // not something applied beside it that a schema application would revert.
            await app.Store.Storage.Database.AssertDatabaseMatchesConfigurationAsync();
        }

        await using (var again = new AppFactory(database.ConnectionString))
        {
            again.CreateClient().Dispose();
            await AssertStorageSettingsAsync();
        }
    }

    [Fact]
    public async Task A_database_created_before_the_change_loses_the_redundant_indexes_at_the_next_start()
    {
        await using (var app = new AppFactory(database.ConnectionString))
        {
            app.CreateClient().Dispose();
        }

        // The indexes as the earlier configuration created them (Marten's own names, one column each).
        foreach (var index in Redundant)
        {
            var (table, column) = TableAndColumn(index);
            await ExecuteAsync($"create index {index} on {Schema}.{table} using btree ({column})");
        }

        Assert.Equal(Redundant.Order(), (await IndexesAsync()).Keys.Intersect(Redundant).Order());

        await using (var upgraded = new AppFactory(database.ConnectionString))
        {
            upgraded.CreateClient().Dispose();
            await AssertStorageSettingsAsync();
        }
    }

    private async Task AssertStorageSettingsAsync()
    {
        var indexes = await IndexesAsync();
        Assert.Empty(indexes.Keys.Intersect(Redundant));
        foreach (var (name, columns) in Composites)
        {
            Assert.True(indexes.TryGetValue(name, out var definition), $"{name} is missing");
            Assert.EndsWith($"USING btree ({columns})", definition);
        }

        // The event log and the QIDO instance records keep the server's default, pglz (EventLogCompression's default:
        // measured smaller than lz4 on these rows; lz4 only when EventStore:EventLogCompression says so).
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            select c.relname, case a.attcompression when 'p' then 'pglz' when 'l' then 'lz4' else 'default' end
            from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = @schema and a.attname = 'data' and c.relname in ('mt_events', 'mt_doc_qidoinstance')
            """, connection);
        command.Parameters.AddWithValue("schema", Schema);
        var compression = new Dictionary<string, string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                compression[reader.GetString(0)] = reader.GetString(1);
            }
        }

        Assert.Equal(new Dictionary<string, string> { ["mt_events"] = "default", ["mt_doc_qidoinstance"] = "default" }, compression);
    }

    private async Task<Dictionary<string, string>> IndexesAsync()
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select indexname, indexdef from pg_indexes where schemaname = @schema", connection);
        command.Parameters.AddWithValue("schema", Schema);
        var indexes = new Dictionary<string, string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            indexes[reader.GetString(0)] = reader.GetString(1);
        }

        return indexes;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static (string Table, string Column) TableAndColumn(string index)
    {
        var at = index.IndexOf("_idx_", StringComparison.Ordinal);
        return (index[..at], index[(at + "_idx_".Length)..]);
    }
}
