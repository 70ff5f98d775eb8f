using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Application.Blobs;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Reports;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Reports;
using EventSourced.Web.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSourced.Web.Tests.Reports;

/// <summary>A small report size bound, so the 413 cases need no large uploads.</summary>
public sealed class ReportsFixture : ServiceFixture
{
    public const int MaxReportBytes = 64 * 1024;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Reports:MaxReportBytes"] = MaxReportBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>Delivering reports (order and study group), document a's results, group report, batch polling and acknowledgement.</summary>
public sealed class ReportsTests(ReportsFixture fixture) : IClassFixture<ReportsFixture>
{
    private static string NewTenant(string name) => $"{name}-{Guid.NewGuid():N}"[..24];

    private async Task<(HttpClient Client, Guid OrderId, string StudyUid)> OrderAsync(string tenant)
    {
        var client = await fixture.App.ClientForTenantAsync(tenant);
        var studyUid = Support.Orders.NewStudyUid();
        return (client, await client.CreateOkAsync(Support.Orders.ExampleBody(studyUid)), studyUid);
    }

    private static async Task<JsonElement> DeliverOkAsync(HttpClient client, string url, byte[] bytes, string mediaType)
    {
        var response = await client.PostAsync(url, ReportFiles.Content(bytes, mediaType));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<(HttpStatusCode Status, byte[] Body, string? MediaType, HttpResponseMessage Response)> GetBytesAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(), response.Content.Headers.ContentType?.MediaType, response);
    }

    private static async Task<List<JsonElement>> PollAllAsync(HttpClient client, string tenant, int limit = 100)
    {
        var all = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var (status, body) = await client.GetJsonAsync($"/reports?organizationId={tenant}&limit={limit}" + (cursor is null ? "" : $"&cursor={cursor}"));
            Assert.Equal(HttpStatusCode.OK, status);
            all.AddRange(body.GetProperty("reports").EnumerateArray());
            cursor = body.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);
        return all;
    }

    private static async Task<JsonElement> AcknowledgeAsync(HttpClient client, string tenant, IEnumerable<string> reportIds)
    {
        var response = await client.PostAsync($"/reports?organizationId={tenant}", Json.Body(JsonSerializer.Serialize(new { report_ids = reportIds }), "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static List<string> Ids(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    [Fact]
    public async Task Json_pdf_dicom_sr_and_encapsulated_pdf_reports_are_stored_and_served_with_their_media_types()
    {
        var tenant = NewTenant("deliver");
        var (client, orderId, studyUid) = await OrderAsync(tenant);
        var json = ReportFiles.JsonReport("no consolidation");
        var pdf = ReportFiles.Pdf("report one");
        var (sr, srSop) = ReportFiles.StructuredReport(studyUid, "No acute findings.");
        var encapsulated = ReportFiles.EncapsulatedPdfInstance(studyUid, pdf);

        var cases = new (string Type, byte[] Bytes, string SentAs, string ServedAs)[]
        {
            ("summary", json, "application/json; charset=utf-8", "application/json"),
            ("pdf", pdf, "application/pdf", "application/pdf"),
            ("sr", sr, "application/dicom", "application/dicom"),
            ("epdf", encapsulated, "application/dicom", "application/dicom"),
        };

        foreach (var (type, bytes, sentAs, servedAs) in cases)
        {
            var delivered = await DeliverOkAsync(client, $"/orders/{orderId}/reports?report_type={type}", bytes, sentAs);
            Assert.Equal(1, delivered.GetProperty("version").GetInt32());
            Assert.Equal(JsonValueKind.Null, delivered.GetProperty("amends").ValueKind);
            Assert.Equal(bytes.Length, delivered.GetProperty("size").GetInt64());
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), delivered.GetProperty("sha256").GetString());

            var (status, body, mediaType, response) = await GetBytesAsync(client, $"/results?order_id={orderId}&report_type={type}");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(servedAs, mediaType);
            Assert.Equal(bytes, body);
            Assert.Equal(delivered.GetProperty("report_id").GetString(), response.Headers.GetValues("X-Report-Id").Single());
        }

        // DCMTK reads what we built and served: the SR's class, instance and text, and the PDF inside the encapsulated one.
        var dump = await ReportFiles.DcmdumpAsync((await GetBytesAsync(client, $"/results?order_id={orderId}&report_type=sr")).Body);
        Assert.Contains($"(0008,0016) UI [{ReportFiles.BasicTextSr}]", dump);
        Assert.Contains($"(0008,0018) UI [{srSop}]", dump);
        Assert.Contains("No acute findings.", dump);
        var encapsulatedDump = await ReportFiles.DcmdumpAsync((await GetBytesAsync(client, $"/results?order_id={orderId}&report_type=epdf")).Body);
        Assert.Contains($"(0008,0016) UI [{ReportFiles.EncapsulatedPdf}]", encapsulatedDump);
        Assert.Contains("(0042,0012) LO [application/pdf]", encapsulatedDump);

        // Report types match without regard to case; the order now has a report.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/results?order_id={orderId}&report_type=PDF")).StatusCode);
        await using var session = fixture.App.Store.QuerySession(tenant);
        var order = await session.Events.AggregateStreamAsync<Order>(orderId);
        Assert.True(order!.HasReport);
        Assert.False(order.AllReportsAcknowledged);
        Assert.Equal(4, order.Reports.ByType.Count);
    }

    [Fact]
    public async Task A_delivered_report_makes_the_order_report_available_and_acknowledging_it_completes_the_order_and_frees_the_study()
    {
        var tenant = NewTenant("done");
        var (client, orderId, studyUid) = await OrderAsync(tenant);
        Assert.NotEqual("report_available", await client.StatusOfAsync(orderId));

        var report = await DeliverOkAsync(client, $"/orders/{orderId}/reports?report_type=summary", ReportFiles.JsonReport("r"), "application/json");
        Assert.Equal("report_available", await client.StatusOfAsync(orderId));

        // While the order is active its study is taken.
        Assert.Equal(HttpStatusCode.Conflict, (await client.CreateAsync(Support.Orders.ExampleBody(studyUid))).StatusCode);

        await AcknowledgeAsync(client, tenant, [report.GetProperty("report_id").GetString()!]);
        Assert.Equal("completed", await client.StatusOfAsync(orderId));
        await using (var session = fixture.App.Store.QuerySession(tenant))
        {
            var order = await session.Events.AggregateStreamAsync<Order>(orderId);
            Assert.Equal(OrderStatus.Completed, order!.Status);
        }

        // A completed order frees its study: a new order for it is accepted.
        var next = await client.CreateOkAsync(Support.Orders.ExampleBody(studyUid));
        Assert.NotEqual(orderId, next);
    }

    [Fact]
    public async Task An_amendment_is_served_instead_keeps_the_earlier_version_and_is_unacknowledged_again()
    {
        var tenant = NewTenant("amend");
        var (client, orderId, _) = await OrderAsync(tenant);
        var first = await DeliverOkAsync(client, $"/orders/{orderId}/reports?report_type=summary", ReportFiles.JsonReport("v1"), "application/json");
        var second = await DeliverOkAsync(client, $"/orders/{orderId}/reports?report_type=summary", ReportFiles.JsonReport("v2"), "application/json");

        Assert.Equal(2, second.GetProperty("version").GetInt32());
        Assert.Equal(first.GetProperty("report_id").GetString(), second.GetProperty("amends").GetString());
        var served = await GetBytesAsync(client, $"/results?order_id={orderId}&report_type=summary");
        Assert.Equal(ReportFiles.JsonReport("v2"), served.Body);
        Assert.Equal("2", served.Response.Headers.GetValues("X-Report-Version").Single());

        // Both versions stay: two events in the order stream, both blobs in the store.
        await using (var session = fixture.App.Store.QuerySession(tenant))
        {
            var delivered = (await session.Events.FetchStreamAsync(orderId)).Select(e => e.Data).OfType<ReportDelivered>().ToList();
            Assert.Equal([1, 2], delivered.Select(d => d.Version));
        }

        var blobs = fixture.App.Services.GetRequiredService<IBlobStore>();
        Assert.True(blobs.Exists(first.GetProperty("sha256").GetString()!));
        Assert.True(blobs.Exists(second.GetProperty("sha256").GetString()!));

        // The poll lists the served version only; acknowledging the replaced one acknowledges nothing.
        var pending = await PollAllAsync(client, tenant);
        Assert.Equal([second.GetProperty("report_id").GetString()!], pending.Select(r => r.GetProperty("report_id").GetString()!));
        Assert.Equal(2, pending[0].GetProperty("version").GetInt32());
        var stale = await AcknowledgeAsync(client, tenant, [first.GetProperty("report_id").GetString()!]);
        Assert.Empty(stale.GetProperty("acknowledged").EnumerateArray());
        Assert.Single(await PollAllAsync(client, tenant));

        await AcknowledgeAsync(client, tenant, [second.GetProperty("report_id").GetString()!]);
        Assert.Empty(await PollAllAsync(client, tenant));

        // A later amendment of an acknowledged report is a new unretrieved report.
        var third = await DeliverOkAsync(client, $"/orders/{orderId}/reports?report_type=summary", ReportFiles.JsonReport("v3"), "application/json");
        var again = await PollAllAsync(client, tenant);
        Assert.Equal([third.GetProperty("report_id").GetString()!], again.Select(r => r.GetProperty("report_id").GetString()!));
        Assert.Equal(3, again[0].GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Concurrent_deliveries_of_one_type_get_distinct_versions_and_the_last_is_served()
    {
        var tenant = NewTenant("race");
        var (client, orderId, _) = await OrderAsync(tenant);
        var responses = await Task.WhenAll(Enumerable.Range(1, 6).Select(i =>
            client.PostAsync($"/orders/{orderId}/reports?report_type=summary", ReportFiles.Content(ReportFiles.JsonReport($"r{i}"), "application/json"))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));

        var bodies = await Task.WhenAll(responses.Select(async r => JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone()));
        Assert.Equal(Enumerable.Range(1, 6), bodies.Select(b => b.GetProperty("version").GetInt32()).Order());
        var newest = bodies.Single(b => b.GetProperty("version").GetInt32() == 6);
        var served = await GetBytesAsync(client, $"/results?order_id={orderId}&report_type=summary");
        Assert.Equal(newest.GetProperty("report_id").GetString(), served.Response.Headers.GetValues("X-Report-Id").Single());
        var pending = Assert.Single(await PollAllAsync(client, tenant));
        Assert.Equal(6, pending.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task A_deleted_order_takes_no_report_and_joins_no_group()
    {
        var tenant = NewTenant("deleted");
        var (client, orderId, studyUid) = await OrderAsync(tenant);
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={studyUid}")).StatusCode);

        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/orders/{orderId}/reports?report_type=pdf", ReportFiles.Content(ReportFiles.Pdf("p"), "application/pdf"))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync("/study-groups/late/orders", Json.Body($$"""{"order_ids":["{{orderId}}"]}""", "application/json"))).StatusCode);
        Assert.Empty(await PollAllAsync(client, tenant));
    }

    [Fact]
    public async Task Results_by_study_uid_come_from_the_studys_most_recent_order()
    {
        var tenant = NewTenant("bystudy");
        var (client, first, studyUid) = await OrderAsync(tenant);
        await DeliverOkAsync(client, $"/orders/{first}/reports?report_type=pdf", ReportFiles.Pdf("first order"), "application/pdf");
        Assert.Equal(ReportFiles.Pdf("first order"), (await GetBytesAsync(client, $"/results?study_uid={studyUid}&report_type=pdf")).Body);

        // The study gets a new order (the first one deleted): the study's results are now the new order's.
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={studyUid}")).StatusCode);
        var second = await client.CreateOkAsync(Support.Orders.ExampleBody(studyUid));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/results?study_uid={studyUid}&report_type=pdf")).StatusCode);

        await DeliverOkAsync(client, $"/orders/{second}/reports?report_type=pdf", ReportFiles.Pdf("second order"), "application/pdf");
        Assert.Equal(ReportFiles.Pdf("second order"), (await GetBytesAsync(client, $"/results?study_uid={studyUid}&report_type=pdf")).Body);
        // By order id the first order's report is still served.
        Assert.Equal(ReportFiles.Pdf("first order"), (await GetBytesAsync(client, $"/results?order_id={first}&report_type=pdf")).Body);
    }

    [Fact]
    public async Task A_study_group_receives_reports_served_by_report_and_listed_by_the_poll()
    {
        var tenant = NewTenant("group");
        var (client, one, _) = await OrderAsync(tenant);
        var two = await client.CreateOkAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid()));
        const string group = "screening 2026/11";
        var escaped = Uri.EscapeDataString(group);

        // Unknown group: nothing to deliver to, nothing to serve.
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/study-groups/{escaped}/reports?report_type=summary", ReportFiles.Content(ReportFiles.JsonReport("x"), "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/report?study_group={escaped}&report_type=summary")).StatusCode);

        var added = await client.PostAsync($"/study-groups/{escaped}/orders", Json.Body($$"""{"order_ids":["{{one}}","{{two}}"]}""", "application/json"));
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        var again = await client.PostAsync($"/study-groups/{escaped}/orders", Json.Body($$"""{"order_ids":["{{two}}"]}""", "application/json"));
        var members = (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("order_ids").EnumerateArray().Select(e => e.GetGuid()).ToList();
        Assert.Equal([one, two], members); // adding an order twice is a no-op
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/study-groups/{escaped}/orders", Json.Body($$"""{"order_ids":["{{Guid.NewGuid()}}"]}""", "application/json"))).StatusCode);

        var delivered = await DeliverOkAsync(client, $"/study-groups/{escaped}/reports?report_type=summary", ReportFiles.JsonReport("group finding"), "application/json");
        Assert.Equal(group, delivered.GetProperty("study_group").GetString());
        var served = await GetBytesAsync(client, $"/report?study_group={escaped}&report_type=summary");
        Assert.Equal(HttpStatusCode.OK, served.Status);
        Assert.Equal(ReportFiles.JsonReport("group finding"), served.Body);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/report?study_group={escaped}&report_type=pdf")).StatusCode);

        var pending = Assert.Single(await PollAllAsync(client, tenant));
        Assert.Equal(group, pending.GetProperty("study_group").GetString());
        Assert.Equal(JsonValueKind.Null, pending.GetProperty("order_id").ValueKind);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(pending.GetProperty("url").GetString())).StatusCode);
        var ack = await AcknowledgeAsync(client, tenant, [delivered.GetProperty("report_id").GetString()!]);
        Assert.Single(ack.GetProperty("acknowledged").EnumerateArray());
        Assert.Empty(await PollAllAsync(client, tenant));
    }

    [Fact]
    public async Task Polling_pages_across_orders_and_the_acknowledgement_leaves_a_report_delivered_after_the_poll_pending()
    {
        var tenant = NewTenant("poll");
        var client = await fixture.App.ClientForTenantAsync(tenant);
        var orders = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            orders.Add(await client.CreateOkAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid())));
        }

        var deliveredIds = new List<string>();
        foreach (var (order, type) in new[] { (0, "a"), (1, "a"), (2, "a"), (0, "b"), (1, "b") })
        {
            var delivered = await DeliverOkAsync(client, $"/orders/{orders[order]}/reports?report_type={type}", ReportFiles.JsonReport($"{order}{type}"), "application/json");
            deliveredIds.Add(delivered.GetProperty("report_id").GetString()!);
        }

        // Pages of two, in delivery order, each report exactly once.
        var (status, firstPage) = await client.GetJsonAsync($"/reports?organizationId={tenant}&limit=2");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, firstPage.GetProperty("reports").GetArrayLength());
        Assert.NotNull(firstPage.GetProperty("next_cursor").GetString());
        var polled = await PollAllAsync(client, tenant, limit: 2);
        Assert.Equal(deliveredIds, polled.Select(r => r.GetProperty("report_id").GetString()!));
        Assert.Equal(orders[0], polled[0].GetProperty("order_id").GetGuid());

        // A report arrives between the poll and its acknowledgement.
        var late = await DeliverOkAsync(client, $"/orders/{orders[2]}/reports?report_type=b", ReportFiles.JsonReport("late"), "application/json");

        var ack = await AcknowledgeAsync(client, tenant, polled.Select(r => r.GetProperty("report_id").GetString()!));
        Assert.Equal(deliveredIds.Order(), Ids(ack.GetProperty("acknowledged")).Order());
        Assert.Empty(ack.GetProperty("not_pending").EnumerateArray());

        var remaining = await PollAllAsync(client, tenant);
        Assert.Equal([late.GetProperty("report_id").GetString()!], remaining.Select(r => r.GetProperty("report_id").GetString()!));

        // The same acknowledgement again changes nothing and says so.
        var repeat = await AcknowledgeAsync(client, tenant, polled.Select(r => r.GetProperty("report_id").GetString()!));
        Assert.Empty(repeat.GetProperty("acknowledged").EnumerateArray());
        Assert.Equal(deliveredIds.Order(), Ids(repeat.GetProperty("not_pending")).Order());
        Assert.Single(await PollAllAsync(client, tenant));

        // The order's audit trail (async) shows who delivered and who acknowledged.
        var (_, history) = await Eventually.Until(
            () => client.GetJsonAsync($"/admin/orders/{orders[0]}/history"),
            r => r.Status == HttpStatusCode.OK && r.Body.GetProperty("entries").GetArrayLength() == 4,
            TimeSpan.FromSeconds(60),
            "the order history to show two deliveries and one acknowledgement");
        Assert.Equal(
            ["order_created", "report_delivered", "report_delivered", "reports_acknowledged"],
            history.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("eventType").GetString()));

        await using var session = fixture.App.Store.QuerySession(tenant);
        var acknowledgements = (await session.Events.FetchStreamAsync(orders[0])).Select(e => e.Data).OfType<ReportsAcknowledged>().ToList();
        var single = Assert.Single(acknowledgements); // the repeat appended nothing
        Assert.Equal(["a", "b"], single.Reports.Select(r => r.ReportType));
        Assert.True((await session.Events.AggregateStreamAsync<Order>(orders[0]))!.AllReportsAcknowledged);
        Assert.False((await session.Events.AggregateStreamAsync<Order>(orders[2]))!.AllReportsAcknowledged);
    }

    private static async Task<JsonElement> PostAcknowledgementAsync(HttpClient client, string tenant, HttpContent? body)
    {
        var response = await client.PostAsync($"/reports?organizationId={tenant}", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task A_bodiless_acknowledgement_acknowledges_exactly_the_pages_this_caller_was_last_served()
    {
        var tenant = NewTenant("noack");
        var client = await fixture.App.ClientForTenantAsync(tenant);
        var other = await fixture.App.BearerClientAsync(tenant, Scopes.ReportsRead); // another caller of the same organization
        var orders = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            orders.Add(await client.CreateOkAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid())));
        }

        var early = new List<string>();
        foreach (var order in orders)
        {
            early.Add((await DeliverOkAsync(client, $"/orders/{order}/reports?report_type=a", ReportFiles.JsonReport($"{order}"), "application/json"))
                .GetProperty("report_id").GetString()!);
        }

        // Nothing served yet: a bodiless acknowledgement acknowledges nothing, whatever is pending.
        var nothing = await PostAcknowledgementAsync(client, tenant, null);
        Assert.Empty(nothing.GetProperty("acknowledged").EnumerateArray());
        Assert.Equal(3, (await PollAllAsync(other, tenant)).Count);

        // The caller pages through the poll (two pages), then a report arrives before its acknowledgement.
        var served = await PollAllAsync(client, tenant, limit: 2);
        Assert.Equal(early, served.Select(r => r.GetProperty("report_id").GetString()!));
        var late = (await DeliverOkAsync(client, $"/orders/{orders[0]}/reports?report_type=b", ReportFiles.JsonReport("late"), "application/json"))
            .GetProperty("report_id").GetString()!;

        // The other caller polled too (and saw the late one): its poll does not widen this caller's acknowledgement.
        Assert.Equal(4, (await PollAllAsync(other, tenant)).Count);

        var ack = await PostAcknowledgementAsync(client, tenant, new ByteArrayContent([]));
        Assert.Equal(early.Order(), Ids(ack.GetProperty("acknowledged")).Order());
        Assert.Empty(ack.GetProperty("not_pending").EnumerateArray());
        Assert.Equal([late], (await PollAllAsync(other, tenant)).Select(r => r.GetProperty("report_id").GetString()!));

        // Repeating it acknowledges nothing new: the late report is still unseen by this caller.
        var repeat = await PostAcknowledgementAsync(client, tenant, null);
        Assert.Empty(repeat.GetProperty("acknowledged").EnumerateArray());
        Assert.Equal(early.Order(), Ids(repeat.GetProperty("not_pending")).Order());
        Assert.Equal([late], (await PollAllAsync(other, tenant)).Select(r => r.GetProperty("report_id").GetString()!));

        // A new poll (no cursor) starts a new round: now the late one is served, and a bodiless POST takes it.
        Assert.Equal([late], (await PollAllAsync(client, tenant)).Select(r => r.GetProperty("report_id").GetString()!));
        var second = await PostAcknowledgementAsync(client, tenant, new StringContent("", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal([late], Ids(second.GetProperty("acknowledged")));
        Assert.Empty(await PollAllAsync(other, tenant));

        // What was served to whom is in the caller's own stream, with its subject.
        await using var session = fixture.App.Store.QuerySession(tenant);
        var rounds = (await session.Events.FetchStreamAsync(ReportPoller.StreamId(tenant, $"{tenant}-client"))).Select(e => e.Data).OfType<ReportsServedToPoller>().ToList();
        Assert.Equal([false, true, false], rounds.Select(e => e.NextPage));
        Assert.All(rounds, e => Assert.Equal($"{tenant}-client", e.ServedTo.Subject));
        Assert.Equal(early, rounds.Take(2).SelectMany(e => e.ReportIds).Select(id => id.ToString()));
    }

    [Fact]
    public async Task The_polls_own_answer_echoed_back_acknowledges_the_reports_it_lists()
    {
        var tenant = NewTenant("echo");
        var (client, orderId, _) = await OrderAsync(tenant);
        var first = (await DeliverOkAsync(client, $"/orders/{orderId}/reports?report_type=a", ReportFiles.JsonReport("a"), "application/json")).GetProperty("report_id").GetString()!;

        var poll = await client.GetAsync($"/reports?organizationId={tenant}");
        var pollText = await poll.Content.ReadAsStringAsync();
        var late = (await DeliverOkAsync(client, $"/orders/{orderId}/reports?report_type=b", ReportFiles.JsonReport("b"), "application/json")).GetProperty("report_id").GetString()!;

        var ack = await PostAcknowledgementAsync(client, tenant, new StringContent(pollText, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal([first], Ids(ack.GetProperty("acknowledged")));
        Assert.Equal([late], (await PollAllAsync(client, tenant)).Select(r => r.GetProperty("report_id").GetString()!));

        // An empty poll echoed back is no mistake and acknowledges nothing; the list form still works beside it.
        var empty = await PostAcknowledgementAsync(client, tenant, Json.Body($$"""{"organization_id":"{{tenant}}","reports":[],"next_cursor":null}""", "application/json"));
        Assert.Empty(empty.GetProperty("acknowledged").EnumerateArray());
        var listed = await AcknowledgeAsync(client, tenant, [late]);
        Assert.Equal([late], Ids(listed.GetProperty("acknowledged")));
        Assert.Empty(await PollAllAsync(client, tenant));
    }

    [Fact]
    public async Task Another_organization_sees_nothing_and_cannot_acknowledge()
    {
        var tenant = NewTenant("owner");
        var (client, orderId, studyUid) = await OrderAsync(tenant);
        var delivered = await DeliverOkAsync(client, $"/orders/{orderId}/reports?report_type=pdf", ReportFiles.Pdf("private"), "application/pdf");

        var other = NewTenant("other");
        var stranger = await fixture.App.ClientForTenantAsync(other);
        Assert.Empty(await PollAllAsync(stranger, other));
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/results?order_id={orderId}&report_type=pdf")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/results?study_uid={studyUid}&report_type=pdf")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetAsync($"/reports?organizationId={tenant}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/orders/{orderId}/reports?report_type=pdf", ReportFiles.Content(ReportFiles.Pdf("x"), "application/pdf"))).StatusCode);

        var ack = await AcknowledgeAsync(stranger, other, [delivered.GetProperty("report_id").GetString()!]);
        Assert.Empty(ack.GetProperty("acknowledged").EnumerateArray());
        Assert.Single(await PollAllAsync(client, tenant));
    }

    [Fact]
    public async Task Credentials_parameters_and_unknown_targets_give_401_403_400_and_404()
    {
        var tenant = NewTenant("auth");
        var (client, orderId, studyUid) = await OrderAsync(tenant);
        await DeliverOkAsync(client, $"/orders/{orderId}/reports?report_type=pdf", ReportFiles.Pdf("p"), "application/pdf");
        var reads = new[]
        {
            $"/results?order_id={orderId}&report_type=pdf", $"/results?study_uid={studyUid}&report_type=pdf",
            "/report?study_group=g&report_type=pdf", $"/reports?organizationId={tenant}",
        };

        var anonymous = fixture.App.CreateClient();
        var writerOnly = await fixture.App.ClientForTenantAsync(tenant, Scopes.ReportsWrite, Scopes.OrdersRead);
        var readerOnly = await fixture.App.ClientForTenantAsync(tenant, Scopes.ReportsRead);
        foreach (var url in reads)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(url)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await writerOnly.GetAsync(url)).StatusCode);
        }

        var ackBody = $$"""{"report_ids":["{{Guid.NewGuid()}}"]}""";
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"/reports?organizationId={tenant}", Json.Body(ackBody, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await writerOnly.PostAsync($"/reports?organizationId={tenant}", Json.Body(ackBody, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await readerOnly.PostAsync($"/reports?organizationId=someone-else", Json.Body(ackBody, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await readerOnly.GetAsync($"/results?order_id={orderId}&report_type=pdf")).StatusCode);

        var deliver = $"/orders/{orderId}/reports?report_type=pdf";
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync(deliver, ReportFiles.Content(ReportFiles.Pdf("p"), "application/pdf"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await readerOnly.PostAsync(deliver, ReportFiles.Content(ReportFiles.Pdf("p"), "application/pdf"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await readerOnly.PostAsync("/study-groups/g/orders", Json.Body($$"""{"order_ids":["{{orderId}}"]}""", "application/json"))).StatusCode);

        foreach (var url in new[]
                 {
                     "/results?report_type=pdf", $"/results?order_id={orderId}", $"/results?order_id={orderId}&study_uid={studyUid}&report_type=pdf",
                     "/results?order_id=not-a-guid&report_type=pdf", $"/results?order_id={orderId}&report_type=bad%20type", "/report?report_type=pdf",
                     "/report?study_group=g", "/reports", $"/reports?organizationId={tenant}&limit=0", $"/reports?organizationId={tenant}&cursor=abc",
                 })
        {
            var response = await readerOnly.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        foreach (var url in new[] { $"/results?order_id={Guid.NewGuid()}&report_type=pdf", $"/results?study_uid=1.2.3.999&report_type=pdf", $"/results?order_id={orderId}&report_type=summary" })
        {
            var response = await readerOnly.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{url}: {response.StatusCode}");
        }

        foreach (var body in new[] { "{}", """{"report_ids":[]}""", """{"report_ids":["nope"]}""", """{"report_ids":"x"}""", "[1]" })
        {
            var response = await readerOnly.PostAsync($"/reports?organizationId={tenant}", Json.Body(body, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{body}: {response.StatusCode}");
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/orders/{Guid.NewGuid()}/reports?report_type=pdf", ReportFiles.Content(ReportFiles.Pdf("p"), "application/pdf"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/orders/not-a-guid/reports?report_type=pdf", ReportFiles.Content(ReportFiles.Pdf("p"), "application/pdf"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync($"/orders/{orderId}/reports", ReportFiles.Content(ReportFiles.Pdf("p"), "application/pdf"))).StatusCode);
    }

    [Fact]
    public async Task Bad_or_oversized_content_is_refused_and_leaves_no_event_and_no_blob()
    {
        var tenant = NewTenant("abuse");
        var (client, orderId, studyUid) = await OrderAsync(tenant);
        var url = $"/orders/{orderId}/reports?report_type=x";
        var objects = Path.Combine(fixture.App.BlobRoot, "objects");
        int Blobs() => Directory.Exists(objects) ? Directory.EnumerateFiles(objects, "*", SearchOption.AllDirectories).Count() : 0;
        var blobsBefore = Blobs();

        var ct = Support.SyntheticInstances.Create(studyUid).Bytes;
        var (otherStudySr, _) = ReportFiles.StructuredReport(Support.Orders.NewStudyUid(), "wrong study");
        var oversized = new byte[ReportsFixture.MaxReportBytes + 1];
        "%PDF-1.4\n"u8.CopyTo(oversized);
        var cases = new (HttpContent Content, HttpStatusCode Expected)[]
        {
            (ReportFiles.Content("{\"finding\": "u8.ToArray(), "application/json"), HttpStatusCode.BadRequest),
            (ReportFiles.Content("not a pdf"u8.ToArray(), "application/pdf"), HttpStatusCode.BadRequest),
            (ReportFiles.Content("not dicom at all"u8.ToArray(), "application/dicom"), HttpStatusCode.BadRequest),
            (ReportFiles.Content(ct, "application/dicom"), HttpStatusCode.BadRequest), // a CT image is not a report
            (ReportFiles.Content(otherStudySr, "application/dicom"), HttpStatusCode.BadRequest), // an SR of another study
            (ReportFiles.Content([], "application/json"), HttpStatusCode.BadRequest),
            (ReportFiles.Content("text"u8.ToArray(), "text/plain"), HttpStatusCode.UnsupportedMediaType),
            (new ByteArrayContent("text"u8.ToArray()), HttpStatusCode.UnsupportedMediaType),
            (ReportFiles.Content(oversized, "application/pdf"), HttpStatusCode.RequestEntityTooLarge),
            (Chunked(oversized, "application/pdf"), HttpStatusCode.RequestEntityTooLarge), // no Content-Length: counted while streaming
        };

        foreach (var (content, expected) in cases)
        {
            var response = await client.PostAsync(url, content);
            Assert.True(response.StatusCode == expected, $"{content.Headers.ContentType}: {response.StatusCode}, expected {expected}: {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        await using var session = fixture.App.Store.QuerySession(tenant);
        Assert.DoesNotContain((await session.Events.FetchStreamAsync(orderId)).Select(e => e.Data), e => e is ReportDelivered);
        Assert.Empty(await PollAllAsync(client, tenant));
        Assert.Equal(blobsBefore, Blobs());
    }

    private static HttpContent Chunked(byte[] bytes, string mediaType)
    {
        var content = new StreamContent(new NonSeekable(bytes));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(mediaType);
        return content;
    }

    /// <summary>A stream whose length is unknown, so the client sends the body chunked without Content-Length.</summary>
    private sealed class NonSeekable(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public async Task Rebuilding_the_current_reports_reproduces_them_exactly()
    {
        var tenant = NewTenant("rebuild");
        var (client, orderId, studyUid) = await OrderAsync(tenant);
        var second = await client.CreateOkAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid()));
        var a = await DeliverOkAsync(client, $"/orders/{orderId}/reports?report_type=summary", ReportFiles.JsonReport("1"), "application/json");
        await DeliverOkAsync(client, $"/orders/{orderId}/reports?report_type=summary", ReportFiles.JsonReport("2"), "application/json");
        await DeliverOkAsync(client, $"/orders/{orderId}/reports?report_type=sr", ReportFiles.StructuredReport(studyUid, "t").Bytes, "application/dicom");
        var b = await DeliverOkAsync(client, $"/orders/{second}/reports?report_type=pdf", ReportFiles.Pdf("b"), "application/pdf");
        await client.PostAsync("/study-groups/rebuild/orders", Json.Body($$"""{"order_ids":["{{orderId}}","{{second}}"]}""", "application/json"));
        await DeliverOkAsync(client, "/study-groups/rebuild/reports?report_type=summary", ReportFiles.JsonReport("g"), "application/json");
        await AcknowledgeAsync(client, tenant, [a.GetProperty("report_id").GetString()!, b.GetProperty("report_id").GetString()!]);

        var live = await CurrentReportsAsync();
        Assert.True(live.Count >= 4);

        await ReadModelTables.ClearAsync(fixture.ConnectionString, "mt_doc_currentreport");

        using var daemon = await fixture.App.Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<CurrentReportProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal(live, await CurrentReportsAsync());
    }

    private async Task<List<string>> CurrentReportsAsync() =>
        (await ReadModelTables.RowsAsync(fixture.ConnectionString, "mt_doc_currentreport"))[0];
}
