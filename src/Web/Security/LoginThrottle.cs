using EventSourced.Web.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace EventSourced.Web.Security;

/// <summary>
/// Failed sign-ins, in the database (table <c>login_failures</c>), so every node counts the same failures:
/// a deployment of N nodes allows the limit, not N times it (docs/architecture.md, "Running at larger
/// scale"). A key (username, or client address) with at least its limit of failures in the sliding window
/// is throttled until the oldest counted failure leaves the window; attempts while throttled count as
/// failures, so a client that keeps trying keeps itself locked out. A successful sign-in clears the
/// username's failures (not the address's). Operational state, not an event: a failure changes no
/// record of the archive, and the rows leave the table with the window.
/// </summary>
public sealed class LoginThrottle(NpgsqlDataSource dataSource, IOptions<EventStoreOptions> store, IOptions<ArchiveLoginOptions> options, TimeProvider time)
{
    private const string TableName = "login_failures";

    /// <summary>Failures remembered per key and window: enough to decide, bounded against a flood.</summary>
    private const int MaxRemembered = 64;

    /// <summary>The failures counted for one sign-in attempt, read once and used by the Record calls.</summary>
    public sealed record Recent(string UserKey, string AddressKey, int UserFailures, int AddressFailures, TimeSpan? RetryAfter);

    /// <summary>The table, created with the event store's schema at start-up (Marten's extended schema objects).</summary>
    public static Table Table(string schema)
    {
        var table = new Table($"{schema}.{TableName}");
        table.AddColumn<string>("key").NotNull();
        table.AddColumn<DateTimeOffset>("at").NotNull();
        table.Indexes.Add(new IndexDefinition($"ix_{TableName}_key_at") { Columns = ["key", "at"] });
        table.Indexes.Add(new IndexDefinition($"ix_{TableName}_at") { Columns = ["at"] });
        return table;
    }

    public async Task<Recent> CheckAsync(string username, string address, CancellationToken cancellation)
    {
        var userKey = "user:" + username;
        var addressKey = "ip:" + address;
        var now = time.GetUtcNow();
        var window = options.Value.FailureWindow;
        var user = new List<DateTimeOffset>();
        var ip = new List<DateTimeOffset>();
        await using (var command = dataSource.CreateCommand(
            $"select key, at from {store.Value.Schema}.{TableName} where key = any(@keys) and at > @since order by at"))
        {
            command.Parameters.AddWithValue("keys", new[] { userKey, addressKey });
            command.Parameters.AddWithValue("since", now - window);
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                (reader.GetString(0) == userKey ? user : ip).Add(reader.GetFieldValue<DateTimeOffset>(1));
            }
        }

        var userWait = Wait(user, options.Value.MaxFailuresPerUser, now, window);
        var ipWait = Wait(ip, options.Value.MaxFailuresPerAddress, now, window);
        var wait = userWait is null ? ipWait : ipWait is null ? userWait : userWait > ipWait ? userWait : ipWait;
        return new Recent(userKey, addressKey, user.Count, ip.Count, wait);
    }

    public async Task RecordFailureAsync(Recent recent, CancellationToken cancellation)
    {
        var keys = new List<string>();
        if (recent.UserFailures < MaxRemembered)
        {
            keys.Add(recent.UserKey);
        }

        if (recent.AddressFailures < MaxRemembered)
        {
            keys.Add(recent.AddressKey);
        }

        // Every failure that left the window goes with the new one, whichever key it counted for: the table
        // holds recent activity only, so keys that failed once and never came back (a spray of usernames)
        // do not pile up.
        var now = time.GetUtcNow();
        await using var command = dataSource.CreateCommand(
            $"""
             with gone as (delete from {store.Value.Schema}.{TableName} where at <= @since)
             insert into {store.Value.Schema}.{TableName} (key, at) select k, @now from unnest(@keys) as k
             """);
        command.Parameters.AddWithValue("since", now - options.Value.FailureWindow);
        command.Parameters.AddWithValue("keys", keys.ToArray());
        command.Parameters.AddWithValue("now", now);
        await command.ExecuteNonQueryAsync(cancellation);
    }

    public async Task RecordSuccessAsync(Recent recent, CancellationToken cancellation)
    {
        if (recent.UserFailures == 0)
        {
            return; // nothing to clear: a sign-in without failures costs no write
        }

        await using var command = dataSource.CreateCommand($"delete from {store.Value.Schema}.{TableName} where key = @key");
        command.Parameters.AddWithValue("key", recent.UserKey);
        await command.ExecuteNonQueryAsync(cancellation);
    }

    // Throttled until fewer than `limit` failures remain in the window.
    private static TimeSpan? Wait(List<DateTimeOffset> failures, int limit, DateTimeOffset now, TimeSpan window) =>
        failures.Count < limit ? null : failures[failures.Count - limit] + window - now;
}
