using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Domain.Orders;
using EventSourced.Web.Tests.Support;
using Marten;

namespace EventSourced.Web.Tests.Orders;

/// <summary>Document e, "Create Order API" and "Delete Order API", over HTTP against a real PostgreSQL.</summary>
public sealed class PacsOrderApiTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private static readonly string[] MandatoryFields =
    [
        "PatientID", "StudyInstanceUID", "PatientName", "ScheduledStationAETitle", "ScheduledProcedureStepDescription",
        "ScheduledProcedureStepStartDate", "ScheduledProcedureStepStartTime", "Modality", "AccessionNumber",
    ];

    private Task<HttpClient> Client() => fixture.App.ClientForTenantAsync("pacs-tests");

    [Fact]
    public async Task Creating_an_order_with_the_documents_example_body_returns_200_and_keeps_every_field()
    {
        var client = await Client();
        var studyUid = Support.Orders.NewStudyUid();

        var orderId = await client.CreateOkAsync(Support.Orders.ExampleBody(studyUid));

        await using var session = fixture.App.Store.QuerySession("pacs-tests");
        var events = await session.Events.FetchStreamAsync(orderId);
        var created = Assert.IsType<OrderCreated>(Assert.Single(events).Data);
        var expected = Support.Orders.ExampleBody(studyUid);
        foreach (var (name, value) in created.Details.Fields())
        {
            Assert.Equal(expected[name]!.GetValue<string>(), value);
        }

        Assert.Equal("pacs-api", created.CreatedBy.Via);
        Assert.Equal("pacs-tests-client", created.CreatedBy.Subject);
        Assert.Equal("scheduled", await client.StatusOfAsync(orderId));
    }

    [Fact]
    public async Task The_documents_content_type_text_json_and_application_json_are_both_accepted()
    {
        var client = await Client();
        var response = await client.PostAsync(
            "/o3-dpacs-wado/orders/create",
            Json.Body(Support.Orders.MandatoryOnly(Support.Orders.NewStudyUid()).ToJsonString(), "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string> Mandatory() => [.. MandatoryFields];

    [Theory]
    [MemberData(nameof(Mandatory))]
    public async Task A_missing_mandatory_field_is_a_400_naming_that_field(string field)
    {
        var client = await Client();
        var body = Support.Orders.ExampleBody(Support.Orders.NewStudyUid());
        body.Remove(field);

        var response = await client.CreateAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal([field], errors.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Every_missing_field_is_named_in_one_400()
    {
        var client = await Client();
        var response = await client.PostAsync("/o3-dpacs-wado/orders/create", Json.Body("{}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(MandatoryFields.Order(), errors.EnumerateObject().Select(p => p.Name).Order());
    }

    [Theory]
    [InlineData("StudyInstanceUID", "1.2.03.4")] // leading zero in a component
    [InlineData("StudyInstanceUID", "1.2.abc")]
    [InlineData("StudyInstanceUID", "1.2.3456789012345678901234567890123456789012345678901234567890123")] // 65 characters
    [InlineData("ScheduledProcedureStepStartDate", "20221305")] // month 13
    [InlineData("ScheduledProcedureStepStartDate", "2022-12-05")]
    [InlineData("ScheduledProcedureStepStartTime", "245430")] // hour 24
    [InlineData("ScheduledProcedureStepStartTime", "15:54:30")]
    [InlineData("PatientBirthDate", "19860230")] // 30 February
    [InlineData("PatientName", "A^B^C^D^E^F")] // six components
    [InlineData("PatientSex", "X")]
    [InlineData("Modality", "ct")] // CS is upper case
    [InlineData("AccessionNumber", "ACCESSION-NUMBER-17")] // SH: at most 16
    [InlineData("ScheduledStationAETitle", "AN-AE-TITLE-TOO-LONG")]
    [InlineData("PatientID", "back\\slash")]
    public async Task A_value_that_breaks_its_DICOM_value_representation_is_a_400_naming_the_field(string field, string value)
    {
        var client = await Client();
        var body = Support.Orders.ExampleBody(Support.Orders.NewStudyUid());
        body[field] = value;

        var response = await client.CreateAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal([field], errors.EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"PatientID\": ")]
    public async Task A_missing_or_malformed_body_is_a_400_problem(string body)
    {
        var client = await Client();
        var response = await client.PostAsync("/o3-dpacs-wado/orders/create", Json.Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_field_of_the_wrong_JSON_type_is_a_400_naming_it()
    {
        var client = await Client();
        var body = Support.Orders.ExampleBody(Support.Orders.NewStudyUid());
        body["PatientName"] = new System.Text.Json.Nodes.JsonObject { ["family"] = "X" };

        var response = await client.CreateAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Contains("PatientName", errors.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_by_content_type_is_a_415()
    {
        var client = await Client();
        var response = await client.PostAsync("/o3-dpacs-wado/orders/create", Json.Body("<order/>", "application/xml"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task A_body_larger_than_the_bound_is_a_413_whatever_it_claims()
    {
        var client = await Client();
        var huge = "{\"PatientID\":\"" + new string('x', 300 * 1024) + "\"}";

        var response = await client.PostAsync("/o3-dpacs-wado/orders/create", Json.Body(huge));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task A_second_order_for_the_same_StudyInstanceUID_is_a_409_and_appends_nothing()
    {
        var client = await Client();
        var studyUid = Support.Orders.NewStudyUid();
        var first = await client.CreateOkAsync(Support.Orders.ExampleBody(studyUid));

        var response = await client.CreateAsync(Support.Orders.ExampleBody(studyUid));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var (_, ids) = await client.GetJsonAsync($"/orderId?study_uid={studyUid}");
        Assert.Equal([first], ids.GetProperty("order_ids").EnumerateArray().Select(e => e.GetGuid()));
    }

    [Fact]
    public async Task Twenty_parallel_creates_of_one_StudyInstanceUID_give_exactly_one_200_and_nineteen_409s()
    {
        var client = await Client();
        var studyUid = Support.Orders.NewStudyUid();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.CreateAsync(Support.Orders.ExampleBody(studyUid))));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        var (_, ids) = await client.GetJsonAsync($"/orderId?study_uid={studyUid}");
        Assert.Single(ids.GetProperty("order_ids").EnumerateArray());
    }

    [Fact]
    public async Task Deleting_the_order_of_a_study_returns_200_frees_the_study_and_a_second_delete_is_404()
    {
        var client = await Client();
        var studyUid = Support.Orders.NewStudyUid();
        var first = await client.CreateOkAsync(Support.Orders.ExampleBody(studyUid));

        var deleted = await client.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={studyUid}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal("deleted", await client.StatusOfAsync(first));

        var again = await client.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={studyUid}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);

        var second = await client.CreateOkAsync(Support.Orders.ExampleBody(studyUid));
        var (_, ids) = await client.GetJsonAsync($"/orderId?study_uid={studyUid}");
        Assert.Equal([second], ids.GetProperty("order_ids").EnumerateArray().Select(e => e.GetGuid()));
    }

    [Fact]
    public async Task Deleting_with_no_order_for_the_study_is_404_and_without_studyUid_is_400()
    {
        var client = await Client();
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={Support.Orders.NewStudyUid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.DeleteAsync("/o3-dpacs-wado/orders/delete")).StatusCode);
    }
}
