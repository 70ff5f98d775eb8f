using System.Data.Common;
using Marten;
using Npgsql;

namespace EventSourced.Web.Shared.Qido;

/// <summary>
/// Search rows read one by one from the session's reader (on its connection, under its command timeout), each mapped
/// from its columns: not as a JSON document per row through the session's serializer, whose resumable
/// deserialisation of each row cost more than the database's work for a page of 100 results (docs/benchmarks.md,
/// "QIDO pages read row by row and written as they are read").
/// </summary>
public static class QidoRows
{
    /// <summary>The rows <paramref name="sql"/> selects (its parameters as <c>?</c>, in order), each as <paramref name="map"/> makes it.</summary>
    public static async Task<List<T>> ReadAsync<T>(IQuerySession session, string sql, Func<DbDataReader, T> map, CancellationToken cancellation, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(Positional(sql));
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        var rows = new List<T>();
        await using var reader = await session.ExecuteReaderAsync(command, cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>The tenant's rows of alias <c>d</c> matching <paramref name="predicate"/> (all of them when null); the tenant is its first parameter.</summary>
    public static string Where(string? predicate) => predicate is null ? "d.tenant_id = ?" : "d.tenant_id = ? and " + predicate;

    /// <summary>
    /// A page of <paramref name="table"/> (alias <c>d</c>) in <paramref name="order"/> (its columns, each optionally
    /// followed by <c>desc</c>), written one of two ways. <paramref name="keysFirst"/>: the page's keys are found on the
    /// record's columns alone, then only the page's records are opened for <paramref name="shown"/>, so the rows an
    /// <c>offset</c> skips are never decompressed (parameters: the tenant, the predicate's values, the offset, the limit,
    /// the tenant again). Otherwise one scan that opens each row it reads, cheaper than the join for a first page
    /// (parameters: the tenant, the predicate's values, the offset, the limit). docs/benchmarks.md, "QIDO pages after the first".
    /// </summary>
    public static string Page(string shown, string table, string? predicate, string[] order, bool keysFirst)
    {
        if (!keysFirst)
        {
            return $"select {shown} from {table} as d where {Where(predicate)} order by {string.Join(", ", order.Select(o => "d." + o))} offset ? limit ?";
        }

        var columns = string.Join(", ", order.Select(o => "d." + o.Split(' ')[0]));
        return $"select {shown} from {table} as d join (select d.id, {columns} from {table} as d where {Where(predicate)} "
            + $"order by {string.Join(", ", order.Select(o => "d." + o))} offset ? limit ?) as p "
            + $"on p.id = d.id where d.tenant_id = ? order by {string.Join(", ", order.Select(o => "p." + o))}";
    }

    /// <summary>Of <paramref name="table"/>, <paramref name="shown"/> for the records whose keys are the second parameter (the tenant is the first).</summary>
    public static string ByKeys(string shown, string table) => $"select {shown} from {table} as d where d.tenant_id = ? and d.id = any(?)";

    /// <summary>A text column ("" when null).</summary>
    public static string Text(DbDataReader reader, int column) => reader.IsDBNull(column) ? "" : reader.GetString(column);

    /// <summary>A key column (empty when null).</summary>
    public static Guid Key(DbDataReader reader, int column) => reader.IsDBNull(column) ? Guid.Empty : reader.GetGuid(column);

    /// <summary>A count column (0 when null).</summary>
    public static int Count(DbDataReader reader, int column) => reader.IsDBNull(column) ? 0 : reader.GetInt32(column);

    /// <summary><paramref name="sql"/> with its <c>?</c> placeholders numbered (<c>$1</c>, <c>$2</c>, …), as Npgsql's positional parameters.</summary>
    private static string Positional(string sql)
    {
        var text = new System.Text.StringBuilder(sql.Length + 16);
        var n = 0;
        foreach (var c in sql)
        {
            _ = c == '?' ? text.Append('$').Append(++n) : text.Append(c);
        }

        return text.ToString();
    }
}
