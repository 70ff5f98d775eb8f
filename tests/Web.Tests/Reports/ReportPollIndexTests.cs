using System.Net;
using System.Text.Json;
using EventSourced.Projections.Reports;
using EventSourced.Web.Reports;
using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.Reports;

/// <summary>
/// The first page of a polling round reads the pending reports through the partial index on their poll keys, not an
/// index walk past every acknowledged report (docs/benchmarks.md, "Queries that grew with the archive", item 7); a
/// database from before the <c>acknowledged</c> column is upgraded when a process starts (Marten adds the duplicated
/// column filled from the documents, then the index), and polls as before: no acknowledged report is served again.
/// </summary>
public sealed class ReportPollIndexTests(ReportsFixture fixture) : IClassFixture<ReportsFixture>
{
    [Fact]
    public async Task The_first_page_of_a_round_is_read_through_the_pending_reports_index()
    {
        await using var session = fixture.App.Store.QuerySession("report-poll-index");
        // 20,000 reports, one in 1,000 pending: the page the module asks for, planned on a copy of the table grown to that.
        var plan = await QueryPlans.OnGrownCopyAsync(ReportsModule.PendingPage(session, null, 100), fixture.ConnectionString,
            "eventsourced.mt_doc_currentreport", "report-poll-index", 20_000,
            "jsonb_build_object('Acknowledged', n % 1000 <> 0)",
            (ReportRegistration.AcknowledgedColumn, "n % 1000 <> 0"), (ReportRegistration.PollKeyColumn, "lpad(n::text, 19, '0') || md5(n::text)"));

        Assert.DoesNotContain("Seq Scan", plan);
        Assert.Contains("Index Scan", plan);
        // The condition is the index's predicate: no acknowledged report is read and filtered out.
        Assert.DoesNotContain("acknowledged", string.Concat(plan.Split('\n').Where(line => line.Contains("Filter", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task A_database_without_the_acknowledged_column_is_upgraded_at_start_and_polls_as_before()
    {
        var tenant = $"poll-upgrade-{Guid.NewGuid():N}"[..24];
        var client = await fixture.App.ClientForTenantAsync(tenant);
        var reports = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var orderId = await client.CreateOkAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid()));
            var response = await client.PostAsync($"/orders/{orderId}/reports?report_type=summary", ReportFiles.Content(ReportFiles.JsonReport($"r{i}"), "application/json"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            reports.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("report_id").GetString()!);
        }

        var acknowledged = await client.PostAsync($"/reports?organizationId={tenant}", Json.Body(JsonSerializer.Serialize(new { report_ids = reports.Take(2) }), "application/json"));
        Assert.Equal(HttpStatusCode.OK, acknowledged.StatusCode);
        Assert.Equal([reports[2]], await PollAsync(client, tenant));
        Assert.Equal([(reports[0], true), (reports[1], true), (reports[2], false)], await ColumnAsync(tenant));

        // The previous shape: no column, no pending index.
        await SqlCommands.ExecuteAsync(fixture.ConnectionString, $"drop index eventsourced.{ReportRegistration.PendingPollIndex}; alter table eventsourced.mt_doc_currentreport drop column {ReportRegistration.AcknowledgedColumn}");
        var cli = new ServiceProcess(fixture.ConnectionString, fixture.App.BlobRoot);
        await cli.RunCliAsync("tenants", "ensure", tenant);

        // Every row's column filled from its document: the acknowledged reports are not served again.
        Assert.Equal([(reports[0], true), (reports[1], true), (reports[2], false)], await ColumnAsync(tenant));
        Assert.Equal([reports[2]], await PollAsync(client, tenant));
        await fixture.App.Store.Storage.Database.AssertDatabaseMatchesConfigurationAsync();
        await cli.AssertProjectionsVerifyAsync();
    }

    private static async Task<List<string>> PollAsync(HttpClient client, string tenant)
    {
        var (status, body) = await client.GetJsonAsync($"/reports?organizationId={tenant}");
        Assert.Equal(HttpStatusCode.OK, status);
        return [.. body.GetProperty("reports").EnumerateArray().Select(r => r.GetProperty("report_id").GetString()!)];
    }

    /// <summary>The tenant's current reports: report id and the column, in the order of the ids given.</summary>
    private async Task<List<(string ReportId, bool Acknowledged)>> ColumnAsync(string tenant)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select data ->> 'ReportId', {ReportRegistration.AcknowledgedColumn} from eventsourced.mt_doc_currentreport where tenant_id = @tenant order by acknowledged desc, data ->> 'ReportId'", connection);
        command.Parameters.AddWithValue("tenant", tenant);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, bool)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetBoolean(1)));
        }

        return rows;
    }
}
