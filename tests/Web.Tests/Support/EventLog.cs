using Npgsql;

namespace EventSourced.Web.Tests.Support;

/// <summary>Counts of the event store's rows, for "nothing was appended" assertions.</summary>
public static class EventLog
{
    public static async Task<long> CountAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return (long)(await new NpgsqlCommand("select count(*) from eventsourced.mt_events", connection).ExecuteScalarAsync())!;
    }

    /// <summary>The number of events once no more arrive (uploads cascade messages that append asynchronously).</summary>
    public static async Task<long> SettledCountAsync(string connectionString)
    {
        var last = await CountAsync(connectionString);
        while (true)
        {
            await Task.Delay(500);
            var now = await CountAsync(connectionString);
            if (now == last)
            {
                return now;
            }

            last = now;
        }
    }
}
