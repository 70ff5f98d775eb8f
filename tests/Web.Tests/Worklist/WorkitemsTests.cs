using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Worklist;

/// <summary>Document c, "Worklist management": POST/GET/DELETE /workitems, on the one order aggregate.</summary>
public sealed class WorkitemsTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    /// <summary>The document's example request.</summary>
    internal static JsonObject ExampleRequest(string? studyUid, string patientId = "SDJ38WMD1MS01")
    {
        var body = new JsonObject
        {
            ["PatientID"] = patientId,
            ["PatientName"] = "MARIO^ROSSI",
            ["ScheduledStationAETitle"] = "NGV",
            ["ScheduledProcedureStepStartDate"] = "20000101",
            ["ScheduledProcedureStepStartTime"] = "120000",
            ["ScheduledProcedureStepDescription"] = "Tac",
            ["Modality"] = "CT",
            ["AccessionNumber"] = "NDS83JF784N209D2",
        };
        if (studyUid is not null)
        {
            body["StudyInstanceUID"] = studyUid;
        }

        return body;
    }

    /// <summary>The document's example response for that request, verbatim.</summary>
    private const string ExampleResponse = """
        [{"00080005":{"vr":"CS","Value":["ISO-IR 192"]},"00080050":{"vr":"SH","Value":["NDS83JF784N209D2"]},"00080090":{"vr":"PN"},
          "00100010":{"vr":"PN","Value":[{"Alphabetic":"MARIO^ROSSI"}]},"00100020":{"vr":"LO","Value":["SDJ38WMD1MS01"]},"00100030":{"vr":"DA"},
          "00100040":{"vr":"CS"},"00102000":{"vr":"LO"},"001021C0":{"vr":"US"},"0020000D":{"vr":"UI","Value":["1.2.752.24.5.2584605181.20150129083013.816908"]},
          "00321032":{"vr":"PN"},"00321060":{"vr":"LO"},"00380010":{"vr":"LO"},"00380300":{"vr":"LO"},"00380500":{"vr":"LO"},
          "00400100":{"vr":"SQ","Value":[{"00080060":{"vr":"CS","Value":["CT"]},"00400001":{"vr":"AE","Value":["NGV"]},"00400002":{"vr":"DA","Value":["20000101"]},
            "00400003":{"vr":"TM","Value":["120000"]},"00400006":{"vr":"PN"},"00400007":{"vr":"LO","Value":["Tac"]},"00400009":{"vr":"SH"},"00400010":{"vr":"SH"}}]},
          "00401001":{"vr":"SH"},"00402016":{"vr":"LO"},"00403001":{"vr":"LO"}}]
        """;

    private static StringContent Body(JsonObject body) => Json.Body(body.ToJsonString(), "application/json");

    [Fact]
    public async Task Created_workitems_are_listed_by_patient_exactly_in_the_shape_of_the_document_s_example()
    {
        var client = await fixture.App.ClientForTenantAsync("workitems-shape", Scopes.WorklistRead, Scopes.WorklistWrite);
        var studyUid = Support.Orders.NewStudyUid();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/workitems", Body(ExampleRequest(studyUid)))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/workitems", Body(ExampleRequest(null, patientId: "OTHER")))).StatusCode);

        var (status, actual) = await client.GetJsonAsync("/workitems?patientID=SDJ38WMD1MS01");

        Assert.Equal(HttpStatusCode.OK, status);
        var expected = JsonNode.Parse(ExampleResponse)!.AsArray();
        // The two values that differ by nature: the study's UID, and the character set (the example's
        // "ISO-IR 192" is not a DICOM defined term; "ISO_IR 192" is, docs/api-compatibility.md).
        expected[0]!["0020000D"]!["Value"]![0] = studyUid;
        expected[0]!["00080005"]!["Value"]![0] = "ISO_IR 192";
        Assert.Equal(expected.ToJsonString(), JsonNode.Parse(actual.GetRawText())!.ToJsonString());
    }

    [Fact]
    public async Task The_service_generates_the_StudyInstanceUID_when_the_body_has_none_and_a_second_workitem_for_it_is_409()
    {
        var client = await fixture.App.ClientForTenantAsync("workitems-uid", Scopes.WorklistRead, Scopes.WorklistWrite);
        var (status, created) = await PostAsync(client, ExampleRequest(null, "GEN-1"));
        Assert.Equal(HttpStatusCode.OK, status);
        var studyUid = created.GetProperty("0020000D").GetProperty("Value")[0].GetString()!;
        Assert.Matches("^[0-9]+(\\.[0-9]+)+$", studyUid);

        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync("/workitems", Body(ExampleRequest(studyUid)))).StatusCode);
    }

    [Fact]
    public async Task Invalid_or_empty_requests_are_400_naming_the_field_and_credentials_are_checked()
    {
        var client = await fixture.App.ClientForTenantAsync("workitems-invalid", Scopes.WorklistRead, Scopes.WorklistWrite);
        var missing = ExampleRequest(null);
        missing.Remove("ScheduledStationAETitle");
        var response = await client.PostAsync("/workitems", Body(missing));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("ScheduledStationAETitle", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/workitems", Json.Body("", "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/workitems", Json.Body("{}", "application/json"))).StatusCode);

        var anonymous = fixture.App.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/workitems", Body(ExampleRequest(null)))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/workitems?patientID=x")).StatusCode);
        var readOnly = await fixture.App.ClientForTenantAsync("workitems-invalid", Scopes.WorklistRead);
        Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.PostAsync("/workitems", Body(ExampleRequest(null)))).StatusCode);
        var ordersOnly = await fixture.App.ClientForTenantAsync("workitems-invalid", Scopes.OrdersRead, Scopes.OrdersWrite);
        Assert.Equal(HttpStatusCode.Forbidden, (await ordersOnly.GetAsync("/workitems?patientID=x")).StatusCode);
    }

    [Fact]
    public async Task Deleting_a_workitem_is_204_and_removes_it_from_the_list()
    {
        var client = await fixture.App.ClientForTenantAsync("workitems-delete", Scopes.WorklistRead, Scopes.WorklistWrite, Scopes.OrdersRead);
        var studyUid = Support.Orders.NewStudyUid();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/workitems", Body(ExampleRequest(studyUid, "DEL-1")))).StatusCode);

        var deleted = await client.DeleteAsync($"/workitems/{studyUid}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(await deleted.Content.ReadAsByteArrayAsync());

        var (_, list) = await client.GetJsonAsync("/workitems?patientID=DEL-1");
        Assert.Equal(0, list.GetArrayLength());
        var (status, _) = await client.GetJsonAsync($"/status?study_uid={studyUid}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/workitems/{studyUid}")).StatusCode);
    }

    [Fact]
    public async Task A_PACS_order_is_a_document_c_workitem_and_a_UPS_workitem_and_a_document_c_workitem_is_an_order()
    {
        var client = await fixture.App.ClientForTenantAsync("workitems-cross");
        var pacsStudy = Support.Orders.NewStudyUid();
        var pacsBody = Support.Orders.ExampleBody(pacsStudy);
        pacsBody["PatientID"] = "CROSS-1";
        await client.CreateOkAsync(pacsBody);

        var (_, list) = await client.GetJsonAsync("/workitems?patientID=CROSS-1");
        var item = Assert.Single(list.EnumerateArray());
        Assert.Equal(pacsStudy, item.GetProperty("0020000D").GetProperty("Value")[0].GetString());
        Assert.Equal("REFERRING^PHYSICIAN", item.GetProperty("00080090").GetProperty("Value")[0].GetProperty("Alphabetic").GetString());
        Assert.Equal("STATION-NAME", item.GetProperty("00400100").GetProperty("Value")[0].GetProperty("00400010").GetProperty("Value")[0].GetString());

        var (upsStatus, ups) = await client.GetJsonAsync("/dicomweb/workitems?PatientID=CROSS-1");
        Assert.Equal(HttpStatusCode.OK, upsStatus);
        var workitem = Assert.Single(ups.EnumerateArray());
        Assert.Equal("SCHEDULED", workitem.GetProperty("00741000").GetProperty("Value")[0].GetString());
        Assert.Equal(pacsStudy, workitem.GetProperty("0020000D").GetProperty("Value")[0].GetString());

        // The other way: a document c workitem is an order (document a's /status, document e's 409).
        var cStudy = Support.Orders.NewStudyUid();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/workitems", Body(ExampleRequest(cStudy, "CROSS-2")))).StatusCode);
        var (statusCode, status) = await client.GetJsonAsync($"/status?study_uid={cStudy}");
        Assert.Equal(HttpStatusCode.OK, statusCode);
        Assert.Equal("scheduled", status.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await client.CreateAsync(Support.Orders.ExampleBody(cStudy))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync("/workitems", Body(ExampleRequest(pacsStudy)))).StatusCode);
    }

    [Fact]
    public async Task Another_tenant_s_workitems_are_invisible_in_every_dialect()
    {
        var mine = await fixture.App.ClientForTenantAsync("workitems-tenant-a");
        var theirs = await fixture.App.ClientForTenantAsync("workitems-tenant-b");
        var studyUid = Support.Orders.NewStudyUid();
        var (_, created) = await PostAsync(mine, ExampleRequest(studyUid, "TENANT-1"));
        Assert.Equal(studyUid, created.GetProperty("0020000D").GetProperty("Value")[0].GetString());
        var (_, ups) = await mine.GetJsonAsync($"/dicomweb/workitems?StudyInstanceUID={studyUid}");
        var workitemUid = ups[0].GetProperty("00080018").GetProperty("Value")[0].GetString();

        var (_, list) = await theirs.GetJsonAsync("/workitems?patientID=TENANT-1");
        Assert.Equal(0, list.GetArrayLength());
        Assert.Equal(HttpStatusCode.NoContent, (await theirs.GetAsync("/dicomweb/workitems?PatientID=TENANT-1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await theirs.GetAsync($"/dicomweb/workitems/{workitemUid}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await theirs.DeleteAsync($"/workitems/{studyUid}")).StatusCode);
        // The same StudyInstanceUID is free in another tenant.
        Assert.Equal(HttpStatusCode.OK, (await theirs.PostAsync("/workitems", Body(ExampleRequest(studyUid, "TENANT-1")))).StatusCode);
    }

    private static async Task<(HttpStatusCode, JsonElement)> PostAsync(HttpClient client, JsonObject body)
    {
        var response = await client.PostAsync("/workitems", Body(body));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }
}
