using EventSourced.Domain.Orders;
using EventSourced.Web.Tests.Support;
using Marten;

namespace EventSourced.Web.Tests.Orders;

/// <summary>Personal data in events stays erasable: masking rewrites the PHI of an order's events, keeping the log's shape.</summary>
public sealed class PersonalDataErasureTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Masking_an_orders_stream_erases_the_patient_and_keeps_the_history()
    {
        const string tenant = "erasure-tests";
        var client = await fixture.App.ClientForTenantAsync(tenant);
        var studyUid = Support.Orders.NewStudyUid();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/add-metadata?order_id={orderId}") { Content = Json.Body("""{"PatientSex":"F","PatientBirthDate":"19860130"}""", "application/json") };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.SendAsync(patch)).StatusCode);
        var other = await client.CreateOkAsync(Support.Orders.MandatoryOnly(Support.Orders.NewStudyUid()));

        await fixture.App.Store.Advanced.ApplyEventDataMasking(x => x.ForTenant(tenant).IncludeStream(orderId), CancellationToken.None);

        await using var session = fixture.App.Store.QuerySession(tenant);
        var events = await session.Events.FetchStreamAsync(orderId);
        Assert.Equal([typeof(OrderCreated), typeof(OrderMetadataAdded)], events.Select(e => e.EventType));
        var created = (OrderCreated)events[0].Data;
        Assert.Equal(OrderDetails.Erased, created.Details.PatientId);
        Assert.Equal(OrderDetails.Erased, created.Details.PatientName);
        Assert.Equal(studyUid, created.Details.StudyInstanceUid);
        Assert.All(((OrderMetadataAdded)events[1].Data).Metadata.Values, v => Assert.Equal(OrderDetails.Erased, v.GetString()));

        var untouched = (OrderCreated)(await session.Events.FetchStreamAsync(other))[0].Data;
        Assert.Equal("NONE", untouched.Details.PatientId);
    }
}
