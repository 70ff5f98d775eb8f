using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Orders;

/// <summary>
/// The async daemon runs an async projection (the order history). Guards the
/// <c>UseAdvisoryLockTransaction</c> setting: without it the daemon cannot take its advisory lock with
/// the upstream DistributedLock.Postgres and no async projection ever advances.
/// </summary>
public sealed class AsyncDaemonTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task The_daemon_projects_an_orders_history_with_who_did_what_and_when()
    {
        var client = await fixture.App.ClientForTenantAsync("daemon-tests");
        var studyUid = Support.Orders.NewStudyUid();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/add-metadata?order_id={orderId}") { Content = Json.Body("""{"PatientSex":"F"}""", "application/json") };
        await client.SendAsync(patch);
        await client.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={studyUid}");

        var (_, history) = await Eventually.Until(
            () => client.GetJsonAsync($"/admin/orders/{orderId}/history"),
            r => r.Status == System.Net.HttpStatusCode.OK && r.Body.GetProperty("entries").GetArrayLength() == 3,
            TimeSpan.FromSeconds(30),
            "the async daemon to project three history entries");

        var entries = history.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(["order_created", "order_metadata_added", "order_deleted"], entries.Select(e => e.GetProperty("eventType").GetString()));
        Assert.All(entries, e => Assert.Equal("daemon-tests-client", e.GetProperty("subject").GetString()));
        Assert.Equal(["pacs-api", "ingestion-api", "pacs-api"], entries.Select(e => e.GetProperty("via").GetString()));
        var sequences = entries.Select(e => e.GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(sequences.Order(), sequences);
    }
}
