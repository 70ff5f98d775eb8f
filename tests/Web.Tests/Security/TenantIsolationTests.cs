using System.Net;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Security;

/// <summary>Two tenants, the same StudyInstanceUID in both: neither sees nor changes the other's order.</summary>
public sealed class TenantIsolationTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task The_same_StudyInstanceUID_in_two_tenants_gives_two_independent_orders()
    {
        var hospitalA = await fixture.App.ClientForTenantAsync("hospital-a");
        var hospitalB = await fixture.App.ClientForTenantAsync("hospital-b");
        var studyUid = Support.Orders.NewStudyUid();

        var orderA = await hospitalA.CreateOkAsync(Support.Orders.ExampleBody(studyUid));
        var orderB = await hospitalB.CreateOkAsync(Support.Orders.ExampleBody(studyUid)); // no 409 across tenants
        Assert.NotEqual(orderA, orderB);

        // Neither reads the other's order, by id or by study.
        Assert.Equal(HttpStatusCode.NotFound, (await hospitalB.GetAsync($"/status?order_id={orderA}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await hospitalA.GetAsync($"/status?order_id={orderB}")).StatusCode);
        var (_, idsA) = await hospitalA.GetJsonAsync($"/orderId?study_uid={studyUid}");
        Assert.Equal([orderA], idsA.GetProperty("order_ids").EnumerateArray().Select(e => e.GetGuid()));

        // Neither changes the other's order.
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/add-metadata?order_id={orderA}") { Content = Json.Body("""{"PatientSex":"F"}""", "application/json") };
        Assert.Equal(HttpStatusCode.NotFound, (await hospitalB.SendAsync(patch)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await hospitalB.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={studyUid}")).StatusCode);
        Assert.Equal("scheduled", await hospitalA.StatusOfAsync(orderA));
        Assert.Equal("deleted", await hospitalB.StatusOfAsync(orderB));
        Assert.Equal(HttpStatusCode.Conflict, (await hospitalA.CreateAsync(Support.Orders.ExampleBody(studyUid))).StatusCode);
    }
}
