using System.Net;
using System.Text.Json.Nodes;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Worklist;

/// <summary>UPS-RS (PS3.18 §11) on the order aggregate, with PS3.4 CC.2.1's state rules and their statuses.</summary>
public sealed class UpsRsTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private static long counter = DateTime.UtcNow.Ticks;

    private static string NewUid() => $"1.2.826.0.1.3680043.10.4321.{Interlocked.Increment(ref counter)}";

    private static JsonObject Attr(string vr, string value) => new() { ["vr"] = vr, ["Value"] = new JsonArray(value) };

    /// <summary>A UPS create data set (PS3.4 Table CC.2.5-3 positions) with the attributes an order needs.</summary>
    private static JsonArray Dataset(string patientId, string studyUid, string start = "20261123090000", string name = "ROSSI^MARIO", string accession = "ACC1")
    {
        var dataset = new JsonObject
        {
            ["00080060"] = Attr("CS", "CT"),
            ["00100010"] = new JsonObject { ["vr"] = "PN", ["Value"] = new JsonArray(new JsonObject { ["Alphabetic"] = name }) },
            ["00100020"] = Attr("LO", patientId),
            ["00400001"] = Attr("AE", "CT1"),
            ["00404005"] = Attr("DT", start),
            ["0040A370"] = new JsonObject
            {
                ["vr"] = "SQ",
                ["Value"] = new JsonArray(new JsonObject { ["00080050"] = Attr("SH", accession), ["0020000D"] = Attr("UI", studyUid) }),
            },
            ["00741000"] = Attr("CS", "SCHEDULED"),
            ["00741204"] = Attr("LO", "Chest CT"),
        };
        return new JsonArray(dataset);
    }

    private static StringContent Content(JsonNode json) => Json.Body(json.ToJsonString(), "application/dicom+json");

    private static JsonArray StateChange(string state, string? transactionUid)
    {
        var dataset = new JsonObject { ["00741000"] = Attr("CS", state) };
        if (transactionUid is not null)
        {
            dataset["00081195"] = Attr("UI", transactionUid);
        }

        return new JsonArray(dataset);
    }

    private static async Task<HttpResponseMessage> CreateAsync(HttpClient client, string workitemUid, JsonArray dataset) =>
        await client.PostAsync($"/dicomweb/workitems?{workitemUid}", Content(dataset));

    private static string? Warning(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Warning", out var values) ? string.Join(" ", values) : null;

    private static Task<HttpResponseMessage> ChangeAsync(HttpClient client, string uid, string state, string? transactionUid) =>
        client.PutAsync($"/dicomweb/workitems/{uid}/state", Content(StateChange(state, transactionUid)));

    private static async Task<string> StateOf(HttpClient client, string uid)
    {
        var (status, body) = await client.GetJsonAsync($"/dicomweb/workitems/{uid}");
        Assert.Equal(HttpStatusCode.OK, status);
        return body[0].GetProperty("00741000").GetProperty("Value")[0].GetString()!;
    }

    [Fact]
    public async Task Create_then_retrieve_and_a_second_create_with_the_same_UID_is_409()
    {
        var client = await fixture.App.ClientForTenantAsync("ups-create");
        var uid = NewUid();
        var studyUid = NewUid();

        var created = await CreateAsync(client, uid, Dataset("UPS-1", studyUid));

        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        Assert.EndsWith($"/dicomweb/workitems/{uid}", created.Content.Headers.ContentLocation!.ToString());
        Assert.Equal(created.Content.Headers.ContentLocation, created.Headers.Location);
        var response = await client.GetAsync($"/dicomweb/workitems/{uid}");
        Assert.Equal("application/dicom+json", response.Content.Headers.ContentType!.MediaType);
        var (_, body) = await client.GetJsonAsync($"/dicomweb/workitems/{uid}");
        var workitem = Assert.Single(body.EnumerateArray());
        Assert.Equal(uid, workitem.GetProperty("00080018").GetProperty("Value")[0].GetString());
        Assert.Equal("1.2.840.10008.5.1.4.34.6.1", workitem.GetProperty("00080016").GetProperty("Value")[0].GetString());
        Assert.Equal("SCHEDULED", workitem.GetProperty("00741000").GetProperty("Value")[0].GetString());
        Assert.Equal("20261123090000", workitem.GetProperty("00404005").GetProperty("Value")[0].GetString());
        Assert.False(workitem.TryGetProperty("00081195", out _));

        Assert.Equal(HttpStatusCode.Conflict, (await CreateAsync(client, uid, Dataset("UPS-1", NewUid()))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await CreateAsync(client, NewUid(), Dataset("UPS-1", studyUid))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/dicomweb/workitems/{NewUid()}")).StatusCode);

        // The UPS workitem is a document c workitem and an order with a status.
        var (_, list) = await client.GetJsonAsync("/workitems?patientID=UPS-1");
        Assert.Equal(studyUid, Assert.Single(list.EnumerateArray()).GetProperty("0020000D").GetProperty("Value")[0].GetString());
        var (_, status) = await client.GetJsonAsync($"/status?study_uid={studyUid}");
        Assert.Equal("scheduled", status.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Parallel_creates_with_one_workitem_UID_give_exactly_one_workitem()
    {
        var client = await fixture.App.ClientForTenantAsync("ups-create-race");
        var uid = NewUid();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => CreateAsync(client, uid, Dataset("RACE-1", NewUid()))));

        Assert.Single(statuses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(statuses.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        var (_, list) = await client.GetJsonAsync("/workitems?patientID=RACE-1");
        Assert.Equal(1, list.GetArrayLength());
    }

    [Fact]
    public async Task Create_refuses_a_data_set_missing_what_an_order_needs_or_not_SCHEDULED()
    {
        var client = await fixture.App.ClientForTenantAsync("ups-create-invalid");
        var noPatient = Dataset("X", NewUid());
        noPatient[0]!.AsObject().Remove("00100020");
        var response = await CreateAsync(client, NewUid(), noPatient);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("PatientID", await response.Content.ReadAsStringAsync());

        var inProgress = Dataset("X", NewUid());
        inProgress[0]!["00741000"] = Attr("CS", "IN PROGRESS");
        Assert.Equal(HttpStatusCode.BadRequest, (await CreateAsync(client, NewUid(), inProgress)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await CreateAsync(client, "not-a-uid", Dataset("X", NewUid()))).StatusCode);
    }

    [Fact]
    public async Task Search_matches_on_the_QIDO_keys_with_ranges_wildcards_and_paging()
    {
        var client = await fixture.App.ClientForTenantAsync("ups-search");
        var a = NewUid();
        var b = NewUid();
        var c = NewUid();
        var studyA = NewUid();
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(client, a, Dataset("S-1", studyA, "20261101080000", "ROSSI^MARIO", "ACC-A"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(client, b, Dataset("S-1", NewUid(), "20261102080000", "ROSSI^LUCIA", "ACC-B"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(client, c, Dataset("S-2", NewUid(), "20261103080000", "BIANCHI^ANNA", "ACC-C"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ChangeAsync(client, c, "IN PROGRESS", NewUid())).StatusCode);

        async Task<string[]> Uids(string query)
        {
            var (status, body) = await client.GetJsonAsync($"/dicomweb/workitems?{query}");
            return status == HttpStatusCode.NoContent
                ? []
                : [.. body.EnumerateArray().Select(w => w.GetProperty("00080018").GetProperty("Value")[0].GetString()!)];
        }

        Assert.Equal([a, b], await Uids("PatientID=S-1"));
        Assert.Equal([a, b], await Uids("00100010=rossi*"));
        Assert.Equal([b, c], await Uids("ScheduledProcedureStepStartDateTime=20261102-20261103"));
        Assert.Equal([a], await Uids("ScheduledProcedureStepStartDateTime=-20261101"));
        Assert.Equal([c], await Uids("ProcedureStepState=IN%20PROGRESS"));
        Assert.Equal([a, b], await Uids("ProcedureStepState=SCHEDULED"));
        Assert.Equal([b], await Uids("AccessionNumber=ACC-B"));
        Assert.Equal([a], await Uids($"StudyInstanceUID={studyA}"));
        Assert.Equal([b], await Uids("PatientID=S-*&limit=1&offset=1"));
        Assert.Equal([a], await Uids("PatientName=rossi%5Emario"));
        Assert.Equal([a, b, c], await Uids("AccessionNumber=ACC-?"));
        Assert.Empty(await Uids("PatientID=S%25"));
        Assert.Empty(await Uids("PatientID=S_1"));
        var first = await client.GetAsync("/dicomweb/workitems?PatientID=S-*&limit=2");
        Assert.Contains("offset=2", Warning(first));
        Assert.Null(Warning(await client.GetAsync("/dicomweb/workitems?PatientID=S-*&limit=3")));
        Assert.Empty(await Uids("PatientID=NOBODY"));
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/dicomweb/workitems?PatientID=NOBODY")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/dicomweb/workitems?Unknown=1")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/dicomweb/workitems?ProcedureStepState=DONE")).StatusCode);
    }

    [Fact]
    public async Task The_state_rules_of_PS3_4_CC_2_1_with_their_statuses_and_completion_completes_the_order()
    {
        var client = await fixture.App.ClientForTenantAsync("ups-state");
        var uid = NewUid();
        var studyUid = NewUid();
        await CreateAsync(client, uid, Dataset("ST-1", studyUid));
        var transaction = NewUid();

        Assert.Equal(HttpStatusCode.BadRequest, (await ChangeAsync(client, uid, "IN PROGRESS", null)).StatusCode);
        var early = await ChangeAsync(client, uid, "COMPLETED", transaction);
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.Contains("C310", Warning(early));
        Assert.Equal(HttpStatusCode.BadRequest, (await ChangeAsync(client, uid, "SCHEDULED", transaction)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await ChangeAsync(client, uid, "IN PROGRESS", transaction)).StatusCode);
        Assert.Equal("IN PROGRESS", await StateOf(client, uid));

        var twice = await ChangeAsync(client, uid, "IN PROGRESS", NewUid());
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        Assert.Contains("C302", Warning(twice));
        var wrong = await ChangeAsync(client, uid, "COMPLETED", NewUid());
        Assert.Equal(HttpStatusCode.Conflict, wrong.StatusCode);
        Assert.Contains("C301", Warning(wrong));

        Assert.Equal(HttpStatusCode.OK, (await ChangeAsync(client, uid, "COMPLETED", transaction)).StatusCode);
        Assert.Equal("COMPLETED", await StateOf(client, uid));
        var (_, status) = await client.GetJsonAsync($"/status?study_uid={studyUid}");
        Assert.Equal("completed", status.GetProperty("status").GetString());

        var again = await ChangeAsync(client, uid, "COMPLETED", transaction);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("B306", Warning(again));
        var cancel = await ChangeAsync(client, uid, "CANCELED", transaction);
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Contains("C300", Warning(cancel));
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/dicomweb/workitems/{uid}/cancelrequest", null)).StatusCode);

        // A completed order releases its study: a new order for it is accepted; it drops out of document c's list.
        Assert.Equal(HttpStatusCode.OK, (await client.CreateAsync(Support.Orders.ExampleBody(studyUid))).StatusCode);
        var (_, list) = await client.GetJsonAsync("/workitems?patientID=ST-1");
        Assert.Equal(0, list.GetArrayLength());
        Assert.Equal("COMPLETED", await StateOf(client, uid));
        Assert.Equal(HttpStatusCode.NotFound, (await ChangeAsync(client, NewUid(), "IN PROGRESS", transaction)).StatusCode);
    }

    [Fact]
    public async Task A_cancellation_request_cancels_a_scheduled_step_and_is_only_recorded_for_one_in_progress()
    {
        var client = await fixture.App.ClientForTenantAsync("ups-cancel");
        var scheduled = NewUid();
        var studyUid = NewUid();
        await CreateAsync(client, scheduled, Dataset("C-1", studyUid));

        var request = Content(new JsonArray(new JsonObject { ["00741238"] = Attr("LT", "Patient left") }));
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/dicomweb/workitems/{scheduled}/cancelrequest", request)).StatusCode);
        Assert.Equal("CANCELED", await StateOf(client, scheduled));
        var (_, status) = await client.GetJsonAsync($"/status?study_uid={studyUid}");
        Assert.Equal("failed", status.GetProperty("status").GetString());
        Assert.Equal("procedure_step_canceled", status.GetProperty("failure_reason").GetString());
        var again = await client.PostAsync($"/dicomweb/workitems/{scheduled}/cancelrequest", null);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Contains("B304", Warning(again));

        var inProgress = NewUid();
        var transaction = NewUid();
        await CreateAsync(client, inProgress, Dataset("C-2", NewUid()));
        await ChangeAsync(client, inProgress, "IN PROGRESS", transaction);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/dicomweb/workitems/{inProgress}/cancelrequest", null)).StatusCode);
        Assert.Equal("IN PROGRESS", await StateOf(client, inProgress));
        Assert.Equal(HttpStatusCode.OK, (await ChangeAsync(client, inProgress, "CANCELED", transaction)).StatusCode);
        Assert.Equal("CANCELED", await StateOf(client, inProgress));

        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/dicomweb/workitems/{NewUid()}/cancelrequest", null)).StatusCode);
    }

    [Fact]
    public async Task Worklist_routes_need_the_worklist_scopes()
    {
        var ordersOnly = await fixture.App.ClientForTenantAsync("ups-scopes", "orders.read", "orders.write");
        Assert.Equal(HttpStatusCode.Forbidden, (await ordersOnly.GetAsync("/dicomweb/workitems")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await CreateAsync(ordersOnly, NewUid(), Dataset("Z", NewUid()))).StatusCode);
        var reader = await fixture.App.ClientForTenantAsync("ups-scopes", "worklist.read");
        Assert.Equal(HttpStatusCode.Forbidden, (await ChangeAsync(reader, NewUid(), "IN PROGRESS", NewUid())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.App.CreateClient().GetAsync("/dicomweb/workitems")).StatusCode);
    }
}
