using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Reports;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Tests.Support;
using EventSourced.Web.Tests.Worklist;
using Marten;

namespace EventSourced.Web.Tests.Journeys;

/// <summary>
/// One order from scheduling to an acknowledged report, each step through the
/// dialect a real client of it would use, each client holding only the OAuth2 scopes its document
/// names: the worklist (document c) schedules the study, the modality side uploads through presigned
/// URLs and adds the missing metadata (document b), a viewer looks at it with a study token (document
/// c), the AI pipeline delivers its report, and the ordering side polls, reads and acknowledges it
/// (document a). The order's status moves through every state on the way.
/// </summary>
public sealed class OrderToReportJourneyTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "journey-hospital";

    private async Task<HttpClient> BearerAsync(string scope)
    {
        var client = await fixture.App.RegisterClientAsync(Tenant, [.. Scopes.All]);
        var http = fixture.App.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await fixture.App.TokenAsync(client, scope));
        return http;
    }

    private static Task<string> EventuallyStatus(HttpClient client, Guid orderId, string expected) =>
        Eventually.Until(() => client.StatusOfAsync(orderId), s => s == expected, TimeSpan.FromSeconds(60), $"order {orderId} to be {expected}");

    [Fact]
    public async Task An_order_goes_from_worklist_through_presigned_upload_metadata_and_report_to_completed()
    {
        // Each party holds a token with the scopes of its own document only (the short OAuth2 names).
        var worklist = await BearerAsync("worklist");
        var uploader = await BearerAsync("ingest metadata");
        var poller = await BearerAsync("status reports");
        var pipeline = await BearerAsync("reports.write studies.read");
        var viewerIssuer = await BearerAsync("studies.read");

        // Document c: the RIS schedules the exam; the service generates the StudyInstanceUID.
        var scheduled = await worklist.PostAsync("/workitems", Json.Body(WorkitemsTests.ExampleRequest(null, "JOURNEY-1").ToJsonString(), "application/json"));
        var scheduledText = await scheduled.Content.ReadAsStringAsync();
        Assert.True(scheduled.StatusCode == HttpStatusCode.OK, $"{scheduled.StatusCode}: {scheduledText}");
        var (_, listed) = await worklist.GetJsonAsync("/workitems?patientID=JOURNEY-1");
        var studyUid = Assert.Single(listed.EnumerateArray()).GetProperty("0020000D").GetProperty("Value")[0].GetString()!;

        // Document a: the order exists and is scheduled.
        var (idsStatus, ids) = await poller.GetJsonAsync($"/orderId?study_uid={studyUid}");
        Assert.Equal(HttpStatusCode.OK, idsStatus);
        var orderId = Guid.Parse(Assert.Single(ids.GetProperty("order_ids").EnumerateArray()).GetString()!);
        Assert.Equal("scheduled", await poller.StatusOfAsync(orderId));

        // Document b: one presigned URL per instance, PUT without any credential.
        var instances = new[] { SyntheticInstances.Create(studyUid), SyntheticInstances.Create(studyUid) };
        foreach (var instance in instances)
        {
            var issued = await uploader.GetFromJsonAsync<JsonElement>("/upload");
            var put = await fixture.App.CreateClient().PutAsync(
                new Uri(issued.GetProperty("url").GetString()!).PathAndQuery,
                new ByteArrayContent(instance.Bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/dicom") } });
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        // The instances' headers hold PatientSex but no PatientBirthDate: images arrived, metadata missing.
        await EventuallyStatus(poller, orderId, "images_arriving");
        var patch = await uploader.PatchAsync($"/add-metadata?study_uid={studyUid}", Json.Body("""{"PatientBirthDate":"19700101"}""", "application/json"));
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal("ready_for_processing", await poller.StatusOfAsync(orderId));

        // Document c: a viewer token for exactly this study sees both instances.
        var token = (await viewerIssuer.GetFromJsonAsync<JsonElement>($"/token?studyUID={studyUid}&patientID=JOURNEY-1&user=dr.who")).GetProperty("token").GetString()!;
        var viewer = fixture.App.CreateClient();
        viewer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(2, (await viewer.GetFromJsonAsync<JsonElement>($"/dicomweb/studies/{studyUid}/instances")).GetArrayLength());

        // The AI pipeline reads the study and delivers its report.
        Assert.Equal(HttpStatusCode.OK, (await pipeline.GetAsync($"/dicomweb/studies/{studyUid}/metadata")).StatusCode);
        var report = """{"finding":"no abnormality","score":0.02}"""u8.ToArray();
        var delivered = await pipeline.PostAsync($"/orders/{orderId}/reports?report_type=triage",
            new ByteArrayContent(report) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } });
        Assert.Equal(HttpStatusCode.Created, delivered.StatusCode);
        var reportId = (await delivered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("report_id").GetString()!;
        Assert.Equal("report_available", await poller.StatusOfAsync(orderId));

        // Document a: the batch poll lists it, the result is the delivered bytes, the acknowledgement completes the order.
        var (pollStatus, poll) = await poller.GetJsonAsync($"/reports?organizationId={Tenant}");
        Assert.Equal(HttpStatusCode.OK, pollStatus);
        Assert.Equal([reportId], poll.GetProperty("reports").EnumerateArray().Select(r => r.GetProperty("report_id").GetString()!));
        Assert.Equal(report, await poller.GetByteArrayAsync($"/results?study_uid={studyUid}&report_type=triage"));
        var ack = await poller.PostAsync($"/reports?organizationId={Tenant}", Json.Body(JsonSerializer.Serialize(new { report_ids = new[] { reportId } }), "application/json"));
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        Assert.Equal("completed", await poller.StatusOfAsync(orderId));
        Assert.Empty((await poller.GetJsonAsync($"/reports?organizationId={Tenant}")).Body.GetProperty("reports").EnumerateArray());

        // The history holds every step as an event with its principal.
        await using var session = fixture.App.Store.QuerySession(Tenant);
        var events = (await session.Events.FetchStreamAsync(orderId)).Select(e => e.Data).ToList();
        Assert.IsType<OrderCreated>(events[0]);
        Assert.Contains(events, e => e is OrderImagesArrived);
        Assert.Contains(events, e => e is OrderMetadataAdded);
        Assert.Contains(events, e => e is ReportDelivered);
        Assert.IsType<ReportsAcknowledged>(events[^1]);
        var stored = (await session.Events.QueryRawEventDataOnly<InstanceStored>().ToListAsync())
            .Where(e => e.Instance.StudyInstanceUid == studyUid).ToList();
        Assert.Equal(2, stored.Count);
        Assert.All(stored, e => Assert.Equal(IngestChannel.PresignedPut, e.Instance.Channel));
    }
}
