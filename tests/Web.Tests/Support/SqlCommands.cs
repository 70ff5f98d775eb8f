using Npgsql;

namespace EventSourced.Web.Tests.Support;

/// <summary>One statement on a test database, on a connection of its own: to put a table in an earlier shape, or read a catalogue value.</summary>
public static class SqlCommands
{
    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The statement's first value as text (null for no row or SQL null).</summary>
    public static async Task<string?> ScalarTextAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }
}
