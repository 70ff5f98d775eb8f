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
}
