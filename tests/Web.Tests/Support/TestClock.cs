using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSourced.Web.Tests.Support;

/// <summary>
/// The application's clock, moved by the test: real time plus an offset the test advances. Only the
/// wall-clock reading moves; timers and timestamps stay real, so the framework's own polling loops keep
/// running. A deadline a quarter of an hour away cannot pass by itself during a test, however slow the
/// machine, and passes exactly when the test says so.
/// </summary>
public sealed class TestClock : TimeProvider
{
    private long offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref offsetTicks, by.Ticks);

    /// <summary>Replaces the app's <see cref="TimeProvider"/> with this clock.</summary>
    public void Register(IServiceCollection services) => services.AddSingleton<TimeProvider>(this);
}

/// <summary>
/// Wolverine's durable scheduled messages wait on the database's rows and real time, not on the app's
/// clock: after advancing a <see cref="TestClock"/>, the test makes the messages that would now be due
/// due in the database too, and the durability agent runs them.
/// </summary>
public static class ScheduledMessages
{
    /// <returns>How many scheduled messages of the type were waiting (and are now due).</returns>
    public static async Task<int> MakeDueAsync(string connectionString, string messageTypeContains)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "update eventsourced.wolverine_incoming_envelopes set execution_time = now() - interval '1 second' " +
            "where status = 'Scheduled' and message_type like @type",
            connection);
        command.Parameters.AddWithValue("type", $"%{messageTypeContains}%");
        return await command.ExecuteNonQueryAsync();
    }
}
