using System.Net;
using System.Text.Json;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.StudyFeed;

[Collection(StudyFeedCollection.Name)]
public sealed class AuditTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_study_and_an_order_have_their_history_and_their_state_as_of_a_time_and_reading_the_past_changes_nothing()
    {
        var client = await fixture.App.ClientForTenantAsync("audit-a");
        var other = await fixture.App.ClientForTenantAsync("audit-b");

        var first = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(first.Bytes))).StatusCode);
        await Task.Delay(1100);
        var afterFirst = DateTimeOffset.UtcNow;
        await Task.Delay(1100);
        var second = SyntheticInstances.Create(first.Study);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(second.Bytes))).StatusCode);

        var body = Support.Orders.MandatoryOnly(first.Study);
        body["PatientID"] = "AUDIT-P1";
        var orderId = await client.CreateOkAsync(body);
        await Task.Delay(1100);
        var beforeDelete = DateTimeOffset.UtcNow;
        await Task.Delay(1100);
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={first.Study}")).StatusCode);
        var (presentCode, present) = await client.GetJsonAsync($"/status?order_id={orderId}");

        // State as of a time, folded from the log.
        var past = await JsonAsync(client, $"/audit/studies/{first.Study}?asOf={Uri.EscapeDataString(afterFirst.ToString("O"))}");
        Assert.Equal(first.Sop, Assert.Single(Assert.Single(past.GetProperty("series").EnumerateArray()).GetProperty("instances").EnumerateArray()).GetProperty("sopInstanceUid").GetString());
        var now = await JsonAsync(client, $"/audit/studies/{first.Study}?asOf={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"))}");
        Assert.Equal(2, now.GetProperty("series").EnumerateArray().Sum(s => s.GetProperty("instances").GetArrayLength()));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/audit/studies/{first.Study}?asOf=2000-01-01T00:00:00Z")).StatusCode);

        var orderThen = await JsonAsync(client, $"/audit/orders/{orderId}?asOf={Uri.EscapeDataString(beforeDelete.ToString("O"))}");
        Assert.NotEqual("Deleted", orderThen.GetProperty("status").GetString());
        var orderNow = await JsonAsync(client, $"/audit/orders/{orderId}?asOf={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"))}");
        Assert.Equal("Deleted", orderNow.GetProperty("status").GetString());
        // Reading the past did not change the present.
        var (statusCode, status) = await client.GetJsonAsync($"/status?order_id={orderId}");
        Assert.Equal(presentCode, statusCode);
        Assert.Equal(present.ToString(), status.ToString());
        var studyAgain = await JsonAsync(client, $"/dicomweb/studies/{first.Study}/instances");
        Assert.Equal(2, studyAgain.GetArrayLength());

        // Histories: what, when, who, channel, correlation id.
        var orderHistory = (await JsonAsync(client, $"/audit/orders/{orderId}/history")).EnumerateArray().ToList();
        Assert.Equal("order_created", orderHistory[0].GetProperty("eventType").GetString());
        Assert.Equal("order_deleted", orderHistory[^1].GetProperty("eventType").GetString());
        Assert.All(orderHistory, e =>
        {
            Assert.False(string.IsNullOrEmpty(e.GetProperty("who").GetString()));
            Assert.False(string.IsNullOrEmpty(e.GetProperty("via").GetString()));
            Assert.False(string.IsNullOrEmpty(e.GetProperty("correlationId").GetString()));
        });

        await StudyEventsTests.ReadAllAsync(client, expected: 4); // instances, order created and deleted are projected
        var studyHistory = (await JsonAsync(client, $"/audit/studies/{first.Study}/history")).EnumerateArray().ToList();
        Assert.Equal(["InstanceStored", "InstanceStored", "OrderCreated", "OrderDeleted"], studyHistory.Select(e => e.GetProperty("what").GetString()!));
        Assert.Equal("StowRs", studyHistory[0].GetProperty("via").GetString());

        var patientHistory = (await JsonAsync(client, "/audit/patients/AUDIT-P1/history")).EnumerateArray().ToList();
        Assert.Contains(patientHistory, e => e.GetProperty("eventType").GetString() == "order_created");
        Assert.Contains(patientHistory, e => e.GetProperty("eventType").GetString() == "order_deleted");

        // Another tenant sees none of it.
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/audit/orders/{orderId}/history")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/audit/studies/{first.Study}/history")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/audit/patients/AUDIT-P1/history")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/audit/orders/{orderId}?asOf=2100-01-01T00:00:00Z")).StatusCode);
    }

    [Theory]
    [InlineData("/audit/orders/00000000-0000-0000-0000-000000000001")]
    [InlineData("/audit/orders/00000000-0000-0000-0000-000000000001?asOf=soon")]
    [InlineData("/audit/studies/1.2.3?asOf=")]
    public async Task Without_a_valid_asOf_it_is_a_400(string url)
    {
        var client = await fixture.App.ClientForTenantAsync("audit-errors");
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync(url)).StatusCode);
    }

    [Fact]
    public async Task Audit_needs_its_own_scope()
    {
        var client = await fixture.App.ClientForTenantAsync("audit-scope", Domain.Tenants.Scopes.StudiesRead, Domain.Tenants.Scopes.OrdersRead);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/audit/studies/1.2.3/history")).StatusCode);
    }

    private static async Task<JsonElement> JsonAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
