using EventSourced.Projections.Orders;
using EventSourced.Web.Tests.Support;
using Marten;
using Npgsql;

namespace EventSourced.Web.Tests.Orders;

/// <summary>Read models are disposable: rebuilt from the events, they come out identical to the live ones.</summary>
public sealed class ProjectionRebuildTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Rebuilding_the_order_summaries_reproduces_them_exactly()
    {
        foreach (var tenant in new[] { "rebuild-a", "rebuild-b" })
        {
            var client = await fixture.App.ClientForTenantAsync(tenant);
            for (var i = 0; i < 3; i++)
            {
                var studyUid = Support.Orders.NewStudyUid();
                var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));
                var patch = new HttpRequestMessage(HttpMethod.Patch, $"/add-metadata?order_id={orderId}") { Content = Json.Body($$"""{"PatientSex":"F","Note":{{i}}}""", "application/json") };
                await client.SendAsync(patch);
                if (i == 1)
                {
                    await client.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={studyUid}");
                    await client.CreateOkAsync(Support.Orders.ExampleBody(studyUid));
                }
            }
        }

        var live = await SummariesAsync();
        Assert.Equal(8, live.Count);

        await ReadModelTables.ClearAsync(fixture.ConnectionString, "mt_doc_ordersummary");

        using var daemon = await fixture.App.Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<OrderSummaryProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal(live, await SummariesAsync());
    }

    private async Task<List<string>> SummariesAsync() =>
        (await ReadModelTables.RowsAsync(fixture.ConnectionString, "mt_doc_ordersummary"))[0];
}
