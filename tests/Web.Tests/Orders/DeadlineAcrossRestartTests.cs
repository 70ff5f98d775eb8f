using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Orders;

/// <summary>
/// The deadline lives in the database, not in a process: an order created by one host, which stops
/// before the deadline, is failed on time by the next host started on the same database.
/// </summary>
public sealed class DeadlineAcrossRestartTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task An_order_created_before_a_restart_fails_on_time_after_it()
    {
        var settings = new Dictionary<string, string?> { ["Orders:MetadataDeadline"] = "00:00:06" };
        Guid orderId;
        string key;
        await using (var first = new AppFactory(database.ConnectionString, settings))
        {
            key = await first.IssueKeyAsync("restart-tests", [.. Domain.Tenants.Scopes.All]);
            var client = first.CreateClient();
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
            orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(Support.Orders.NewStudyUid()));
            Assert.Equal("scheduled", await client.StatusOfAsync(orderId));
        }

        // The first host is gone, well before the deadline. A new one starts on the same database.
        await using var second = new AppFactory(database.ConnectionString, settings);
        var next = second.CreateClient();
        next.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        Assert.Equal("scheduled", await next.StatusOfAsync(orderId));

        var (_, failed) = await Eventually.Until(
            () => next.GetJsonAsync($"/status?order_id={orderId}"),
            r => r.Body.GetProperty("status").GetString() == "failed",
            TimeSpan.FromSeconds(40),
            "the order to fail after the restart");
        Assert.True(failed.GetProperty("updated_at").GetDateTimeOffset() >= failed.GetProperty("metadata_due_by").GetDateTimeOffset());
    }
}
