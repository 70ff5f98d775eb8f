using Marten;
using Marten.Linq;
using Npgsql;

namespace EventSourced.Web.Tests.Support;

/// <summary>The plan PostgreSQL makes for the statement Marten sends for a query.</summary>
public static class QueryPlans
{
    /// <summary>
    /// With sequential scans ruled out: the small tables of a test would otherwise be scanned whatever their indexes,
    /// so the plan shows whether an index can serve the statement's predicate at all.
    /// </summary>
    public static async Task<string> WithoutSequentialScansAsync<T>(IQueryable<T> query, string connectionString)
        where T : notnull
    {
        var statement = query.ToCommand(FetchType.FetchMany);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await ExecuteAsync(connection, "set enable_seqscan = off");
        return await ExplainAsync(connection, statement.CommandText, statement.Parameters.Cast<NpgsqlParameter>());
    }

    /// <summary>
    /// Made on a temporary copy of the statement's table (same columns and indexes) holding <paramref name="rows"/> rows
    /// of <paramref name="tenant"/>, each with the document <paramref name="document"/> gives for the row's number (SQL
    /// over <c>n</c>): the planner's own choice on an archive grown to that size, where the tenant's key alone no longer
    /// selects a few rows. <paramref name="columns"/> fills the table's duplicated columns the statement reads, each by SQL over <c>n</c>.
    /// </summary>
    public static async Task<string> OnGrownCopyAsync<T>(IQueryable<T> query, string connectionString, string table, string tenant, int rows, string document, params (string Column, string Value)[] columns)
        where T : notnull
    {
        var statement = query.ToCommand(FetchType.FetchMany);
        var from = $" {table} as d";
        if (!statement.CommandText.Contains(from, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The statement does not read{from}: {statement.CommandText}");
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await ExecuteAsync(connection,
            $"""
            create temp table grown (like {table} including defaults including indexes);
            insert into grown (tenant_id, id, data{string.Concat(columns.Select(c => ", " + c.Column))})
            select '{tenant.Replace("'", "''")}', gen_random_uuid(), {document}{string.Concat(columns.Select(c => ", " + c.Value))} from generate_series(1, {rows}) as n;
            analyze grown;
            """);
        return await ExplainAsync(connection, statement.CommandText.Replace(from, " pg_temp.grown as d", StringComparison.Ordinal), statement.Parameters.Cast<NpgsqlParameter>());
    }

    /// <summary>The plan reads no table whole, and one of its index conditions is on <paramref name="expression"/> (as PostgreSQL prints it).</summary>
    public static void AssertServedByIndexOn(string plan, string expression)
    {
        Assert.DoesNotContain("Seq Scan", plan);
        Assert.Contains(expression, string.Concat(plan.Split('\n').Where(line => line.Contains("Index Cond", StringComparison.Ordinal))));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The plan of <paramref name="sql"/> with <paramref name="parameters"/> (copied), on <paramref name="connection"/>.</summary>
    public static async Task<string> ExplainAsync(NpgsqlConnection connection, string sql, IEnumerable<NpgsqlParameter> parameters)
    {
        await using var explain = new NpgsqlCommand("explain " + sql, connection);
        foreach (var parameter in parameters)
        {
            explain.Parameters.Add(parameter.Clone());
        }

        var plan = new List<string>();
        await using var reader = await explain.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            plan.Add(reader.GetString(0));
        }

        return string.Join('\n', plan);
    }
}
