using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Orders;

/// <summary>
/// The deadline lives in the database, not in a process: an order created by one host, which stops
/// before the deadline, is failed on time by the next host started on the same database. The test owns
/// the clock (<see cref="TestClock"/>): the deadline passes after the restart however long the restart takes.
/// </summary>
public sealed class DeadlineAcrossRestartTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(15);

    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task An_order_created_before_a_restart_fails_on_time_after_it()
    {
        var clock = new TestClock();
        var settings = new Dictionary<string, string?> { ["Orders:MetadataDeadline"] = Deadline.ToString() };
        Guid orderId;
        string key;
        await using (var first = new AppFactory(database.ConnectionString, settings, clock.Register))
        {
            key = await first.IssueKeyAsync("restart-tests", [.. Domain.Tenants.Scopes.All]);
            var client = first.CreateClient();
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
            orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(Support.Orders.NewStudyUid()));
            Assert.Equal("scheduled", await client.StatusOfAsync(orderId));
        }

        // The first host is gone before the deadline. A new one starts on the same database.
        await using var second = new AppFactory(database.ConnectionString, settings, clock.Register);
        var next = second.CreateClient();
        next.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        Assert.Equal("scheduled", await next.StatusOfAsync(orderId));

        // The deadline passes: the check the first host scheduled is waiting in the database, and the second host runs it.
        clock.Advance(Deadline + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await ScheduledMessages.MakeDueAsync(database.ConnectionString, "CheckOrderMetadataDeadline"));

        var (_, failed) = await Eventually.Until(
            () => next.GetJsonAsync($"/status?order_id={orderId}"),
            r => r.Body.GetProperty("status").GetString() == "failed",
            TimeSpan.FromSeconds(60),
            "the order to fail after the restart");
        Assert.Equal("metadata_deadline_expired", failed.GetProperty("failure_reason").GetString());
        Assert.True(failed.GetProperty("updated_at").GetDateTimeOffset() >= failed.GetProperty("metadata_due_by").GetDateTimeOffset());
    }
}
