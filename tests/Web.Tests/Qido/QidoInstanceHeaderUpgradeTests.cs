using System.Net;
using System.Text.Json;
using EventSourced.Web.Tests.Patients;
using EventSourced.Web.Tests.Rebuild;
using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.Qido;

/// <summary>
/// QIDO instance records keep no copy of the instance's header, only the event that holds it: every read path
/// takes the header from the log. A database whose records still hold the copy (the previous shape) is upgraded
/// when a process starts: the records come out as the projection writes them (a rebuild from the log agrees),
/// and QIDO, metadata and the PACS study listing answer byte for byte as before, over a history with
/// replacements, corrections, a series move, a deprecation revoked, a delete restored and erasures.
/// </summary>
public sealed class QidoInstanceHeaderUpgradeTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "header-upgrade";

    [Fact]
    public async Task Records_holding_a_header_copy_are_upgraded_at_start_and_every_read_answers_the_same_bytes()
    {
        await RebuildHistory.WriteAsync(fixture.App, Tenant);
        var client = await fixture.App.ClientForTenantAsync(Tenant);

        // A series move left standing (the history's own is erased afterwards): instances that moved in.
        var (moved, _, _) = await PatientSupport.StowStudyAsync(client, "HU-M", "MU^MOVED", series: 2);
        await PatientSupport.OkJsonAsync(await PatientSupport.PostAsync(client, "studies/reconcile", $$"""
            {"sourceStudyInstanceUID":"{{moved}}","targetStudyInstanceUID":"{{EventSourced.Dicom.DicomUid.Generate()}}","patientID":"HU-M2","patientName":"MU^MOVED^AGAIN",
             "patientBirthDate":"19020202","patientSex":"F","accessionNumber":"AN-M","studyDescription":"Moved","studyDate":"20220101","userName":"u"}
            """));
        var urls = await UrlsAsync(client);
        var answers = await AnswersAsync(client, urls);
        var rows = await RowsAsync();
        Assert.True(rows.Count >= 5, $"{rows.Count} instance records");
        Assert.All(rows, r => Assert.DoesNotContain("\"Header\":", r, StringComparison.Ordinal));

        // Some records name a child of a lifecycle event (a restored or moved-in instance), the others the event itself.
        var paths = string.Join('\n', rows);
        Assert.True(rows.Any(r => r.Contains("\"HeaderPath\": \"{Restored,", StringComparison.Ordinal)), paths);
        Assert.True(rows.Any(r => r.Contains("\"HeaderPath\": \"{Arrived,", StringComparison.Ordinal)), paths);
        Assert.True(rows.Any(r => !r.Contains("\"HeaderPath\"", StringComparison.Ordinal)), paths);

        Assert.Equal(rows.Count, await DowngradeAsync());

        var cli = new ServiceProcess(fixture.ConnectionString, fixture.App.BlobRoot);
        var (exit, output, error) = await cli.RunCliToExitAsync("tenants", "ensure", Tenant);
        Assert.True(exit == 0, output + error);

        Assert.Equal(rows, await RowsAsync());
        Assert.Equal(answers, await AnswersAsync(client, urls));
        await fixture.App.Store.Storage.Database.AssertDatabaseMatchesConfigurationAsync();

        // A second start finds nothing to do.
        (exit, output, error) = await cli.RunCliToExitAsync("tenants", "ensure", Tenant);
        Assert.True(exit == 0, output + error);
        Assert.Equal(rows, await RowsAsync());

        var (verified, report, verifyError) = await cli.RunCliToExitAsync("projections", "verify");
        Assert.True(verified == 0, report + verifyError);
        Assert.Contains("0 difference(s)", report);
    }

    /// <summary>Every study and series of the tenant through the paths that read instance headers, and instance matching on header attributes.</summary>
    private static async Task<List<string>> UrlsAsync(HttpClient client)
    {
        var urls = new List<string>
        {
            "/dicomweb/instances?includefield=all&limit=1000",
            "/dicomweb/instances?ImageType=ORIGINAL&limit=1000",
            "/dicomweb/instances?ContentDate=19000101-20991231&includefield=00080008&limit=1000",
            "/dicomweb/instances?ImageType=NONE",
        };
        var studies = await client.GetAsync("/dicomweb/studies?limit=1000");
        Assert.Equal(HttpStatusCode.OK, studies.StatusCode);
        using var listed = JsonDocument.Parse(await studies.Content.ReadAsStringAsync());
        foreach (var study in listed.RootElement.EnumerateArray().Select(s => s.GetProperty("0020000D").GetProperty("Value")[0].GetString()))
        {
            urls.Add($"/dicomweb/studies/{study}/instances?includefield=all");
            urls.Add($"/o3-dpacs-wado/studyInstances?studyUid={study}");
            var series = await client.GetAsync($"/dicomweb/studies/{study}/series");
            using var seriesListed = JsonDocument.Parse(await series.Content.ReadAsStringAsync());
            foreach (var uid in seriesListed.RootElement.EnumerateArray().Select(s => s.GetProperty("0020000E").GetProperty("Value")[0].GetString()))
            {
                urls.Add($"/dicomweb/studies/{study}/series/{uid}/metadata");
            }
        }

        Assert.True(urls.Count > 12, string.Join('\n', urls));
        return urls;
    }

    private static async Task<List<string>> AnswersAsync(HttpClient client, List<string> urls)
    {
        var answers = new List<string>();
        foreach (var url in urls)
        {
            var response = await client.GetAsync(url);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NoContent, $"{url}: {(int)response.StatusCode} {body}");
            answers.Add($"{url} {(int)response.StatusCode} {body}");
        }

        Assert.Contains(answers, a => a.Contains("\"00280010\"", StringComparison.Ordinal));
        return answers;
    }

    private async Task<List<string>> RowsAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select id::text || ' ' || data::text from eventsourced.mt_doc_qidoinstance where tenant_id = @tenant order by id", connection);
        command.Parameters.AddWithValue("tenant", Tenant);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    /// <summary>The records as the previous version wrote them: the header copied in, no event named, no index on the event id.</summary>
    private async Task<int> DowngradeAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var downgrade = new NpgsqlCommand(
            """
            update eventsourced.mt_doc_qidoinstance d
            set data = (d.data - 'HeaderEvent' - 'HeaderPath') || jsonb_build_object('Header', e.data #> coalesce((d.data ->> 'HeaderPath')::text[], '{Instance,Header}'))
            from eventsourced.mt_events e
            where d.tenant_id = @tenant and e.id = (d.data ->> 'HeaderEvent')::uuid;
            drop index eventsourced.idx_mt_events_event_id;
            """, connection);
        downgrade.Parameters.AddWithValue("tenant", Tenant);
        return await downgrade.ExecuteNonQueryAsync();
    }
}
