using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Orders;

/// <summary>Document a (<c>GET /status</c>, <c>GET /orderId</c>) and document b (<c>PATCH /add-metadata</c>).</summary>
public sealed class OrderStatusAndMetadataTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private Task<HttpClient> Client() => fixture.App.ClientForTenantAsync("status-tests");

    private static HttpRequestMessage Patch(string url, string json) => new(HttpMethod.Patch, url) { Content = Json.Body(json, "application/json") };

    [Fact]
    public async Task Status_by_order_id_and_by_study_uid_report_the_same_order()
    {
        var client = await Client();
        var studyUid = Support.Orders.NewStudyUid();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));

        var (byIdStatus, byId) = await client.GetJsonAsync($"/status?order_id={orderId}");
        var (byStudyStatus, byStudy) = await client.GetJsonAsync($"/status?study_uid={studyUid}");

        Assert.Equal(HttpStatusCode.OK, byIdStatus);
        Assert.Equal(HttpStatusCode.OK, byStudyStatus);
        Assert.Equal(byId.GetRawText(), byStudy.GetRawText());
        Assert.Equal(orderId, byId.GetProperty("order_id").GetGuid());
        Assert.Equal(studyUid, byId.GetProperty("study_uid").GetString());
        Assert.Equal("scheduled", byId.GetProperty("status").GetString());
        Assert.Equal(["PatientBirthDate", "PatientSex"], byId.GetProperty("missing_metadata").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task For_a_study_with_several_orders_status_returns_the_most_recent_and_orderId_lists_them_newest_first()
    {
        var client = await Client();
        var studyUid = Support.Orders.NewStudyUid();
        var first = await client.CreateOkAsync(Support.Orders.ExampleBody(studyUid));
        await client.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={studyUid}");
        var second = await client.CreateOkAsync(Support.Orders.ExampleBody(studyUid));

        var (_, status) = await client.GetJsonAsync($"/status?study_uid={studyUid}");
        Assert.Equal(second, status.GetProperty("order_id").GetGuid());

        var (_, ids) = await client.GetJsonAsync($"/orderId?study_uid={studyUid}");
        Assert.Equal([second], ids.GetProperty("order_ids").EnumerateArray().Select(e => e.GetGuid()));
        Assert.Equal("deleted", await client.StatusOfAsync(first));
    }

    [Theory]
    [InlineData("/status")]
    [InlineData("/status?order_id=not-a-guid")]
    [InlineData("/status?order_id=0190a6f0-0000-7000-8000-000000000000&study_uid=1.2.3")]
    [InlineData("/orderId")]
    public async Task Missing_or_malformed_parameters_are_400(string url)
    {
        var client = await Client();
        var (status, body) = await client.GetJsonAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(400, body.GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData("/status?order_id=0190a6f0-0000-7000-8000-000000000000")]
    [InlineData("/status?study_uid=1.2.3.4.5.6.7.8.9")]
    [InlineData("/orderId?study_uid=1.2.3.4.5.6.7.8.9")]
    public async Task Unknown_orders_and_studies_are_404(string url)
    {
        var client = await Client();
        var (status, _) = await client.GetJsonAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task Adding_the_required_metadata_by_order_id_completes_it()
    {
        var client = await Client();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(Support.Orders.NewStudyUid()));

        var first = await client.SendAsync(Patch($"/add-metadata?order_id={orderId}", """{"PatientBirthDate":"19860130","Indication":{"code":"R05"}}"""));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var firstBody = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["PatientSex"], firstBody.GetProperty("missing_metadata").EnumerateArray().Select(e => e.GetString()));

        // Names match without regard to case; a blank value does not count.
        var blank = await client.SendAsync(Patch($"/add-metadata?order_id={orderId}", """{"patientsex":"  "}"""));
        Assert.Equal(["PatientSex"], (await blank.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("missing_metadata").EnumerateArray().Select(e => e.GetString()));

        var second = await client.SendAsync(Patch($"/add-metadata?order_id={orderId}", """{"patientsex":"F"}"""));
        Assert.Empty((await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("missing_metadata").EnumerateArray());

        var (_, status) = await client.GetJsonAsync($"/status?order_id={orderId}");
        Assert.Empty(status.GetProperty("missing_metadata").EnumerateArray());
    }

    [Fact]
    public async Task Adding_metadata_by_study_uid_targets_the_studys_active_order()
    {
        var client = await Client();
        var studyUid = Support.Orders.NewStudyUid();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));

        var response = await client.SendAsync(Patch($"/add-metadata?study_uid={studyUid}", """{"PatientSex":"O"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(orderId, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("order_id").GetGuid());
    }

    [Fact]
    public async Task Adding_metadata_to_a_deleted_order_is_409_and_to_an_unknown_one_404()
    {
        var client = await Client();
        var studyUid = Support.Orders.NewStudyUid();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));
        await client.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={studyUid}");

        Assert.Equal(HttpStatusCode.Conflict, (await client.SendAsync(Patch($"/add-metadata?order_id={orderId}", """{"PatientSex":"M"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(Patch($"/add-metadata?order_id={Guid.CreateVersion7()}", """{"PatientSex":"M"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(Patch($"/add-metadata?study_uid={studyUid}", """{"PatientSex":"M"}"""))).StatusCode);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("{\"\":1}")]
    [InlineData("nope")]
    public async Task Bad_metadata_bodies_are_400(string body)
    {
        var client = await Client();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(Support.Orders.NewStudyUid()));
        var response = await client.SendAsync(Patch($"/add-metadata?order_id={orderId}", body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
