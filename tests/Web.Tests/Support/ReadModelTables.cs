using Npgsql;

namespace EventSourced.Web.Tests.Support;

/// <summary>
/// Read-model tables as raw rows (tenant, id and the JSON document), for "a rebuild from the events gives
/// exactly the live read model" tests: read the rows, clear the tables, rebuild, read again, compare.
/// </summary>
public static class ReadModelTables
{
    public static async Task<List<List<string>>> RowsAsync(string connectionString, params string[] tables)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var all = new List<List<string>>();
        foreach (var table in tables)
        {
            await using var command = new NpgsqlCommand($"select tenant_id || ' ' || id || ' ' || data::text from eventsourced.{table} order by tenant_id, id", connection);
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                rows.Add(reader.GetString(0));
            }

            all.Add(rows);
        }

        return all;
    }

    public static async Task ClearAsync(string connectionString, params string[] tables)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var table in tables)
        {
            await new NpgsqlCommand($"delete from eventsourced.{table}", connection).ExecuteNonQueryAsync();
        }
    }

    /// <summary>The study content's read models: QIDO (the instance records hold the retrieval locations) and document d's archive records.</summary>
    private static readonly string[] StudyTables =
        ["mt_doc_qidostudy", "mt_doc_qidoseries", "mt_doc_qidoinstance", "mt_doc_archivestudy", "mt_doc_archiveseries"];

    /// <summary>Reads the study content's read models, clears them, rebuilds their projections from the events, and asserts the rows are the same.</summary>
    public static async Task AssertStudyReadModelsEqualARebuildAsync(Marten.IDocumentStore store, string connectionString)
    {
        var live = await RowsAsync(connectionString, StudyTables);
        await ClearAsync(connectionString, StudyTables);
        using var daemon = await store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<Projections.Qido.QidoStudyProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<Projections.Qido.QidoSeriesProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<Projections.Studies.InstanceRecordsProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<Projections.Archive.ArchiveStudyProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<Projections.Archive.ArchiveSeriesProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Equal(live, await RowsAsync(connectionString, StudyTables));
    }
}
