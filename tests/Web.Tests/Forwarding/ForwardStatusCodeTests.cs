using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EventSourced.Web.Tests.Support;
using Npgsql;
using static EventSourced.Web.Tests.Forwarding.ForwardingSupport;

namespace EventSourced.Web.Tests.Forwarding;

/// <summary>
/// Every answer document e lists for series/forward (200, 400, 404, and its 500s: database error, forward
/// node not found / not configured, forward job / endpoint not configured) and our operator routes'
/// 400/404/409. A refused request appends no forward event.
/// </summary>
public sealed class ForwardStatusCodeTests : IAsyncLifetime
{
    private const string Tenant = "forward-codes";

    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    private static Dictionary<string, string?> BothJobs() => new(SeriesJobSettings(new Uri("http://127.0.0.1:9/dicom-web")))
    {
        [$"Forwarding:Jobs:{SlidesJob}:Type"] = "ForwardNonDicomSlides",
        [$"Forwarding:Jobs:{SlidesJob}:Endpoint"] = "http://127.0.0.1:9/slides",
        ["Nodes:Dicom:1:AeTitle"] = Scanner,
    };

    [Fact]
    public async Task Bad_input_is_400_unknown_content_404_and_a_known_series_200_with_jobs_configured()
    {
        await using var app = new AppFactory(database.ConnectionString, BothJobs());
        var client = await app.ClientForTenantAsync(Tenant);
        var stored = await StoreSeriesAsync(client, 1, container: "CNT-KNOWN");
        var slide = await UploadSlideAsync(client, "CNT-SLIDE", Pathology.SlideFiles.TiledTiff(16, 16), "s.tiff");
        Assert.Equal(0, await ForwardEventCountAsync(database.ConnectionString));

        object[] bad =
        [
            new { seriesInstanceUID = stored[0].Series },
            new { containerIdentifier = "CNT-KNOWN" },
            new { author = "john" },
            new { seriesInstanceUID = stored[0].Series, containerIdentifier = "CNT-KNOWN", author = "john" },
            new { seriesInstanceUID = stored[0].Series, author = "" },
            new { seriesInstanceUID = stored[0].Series, author = 7 },
            new { seriesInstanceUID = "not a uid", author = "john" },
            new { seriesInstanceUID = stored[0].Series, author = "john", extra = "x" },
            new { containerIdentifier = new string('C', 65), author = "john" },
        ];
        foreach (var body in bad)
        {
            var (status, problem) = await PostForwardAsync(client, body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{JsonSerializer.Serialize(body)}: {status} {problem}");
            Assert.Equal(400, problem.GetProperty("status").GetInt32());
        }

        var (missing, missingBody) = await PostForwardAsync(client, new { author = "john" });
        Assert.Contains("both parameters are mandatory", missingBody.GetProperty("detail").GetString());
        var notJson = await client.PostAsync("/o3-dpacs-wado/series/forward", new StringContent("{", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);

        var (seriesStatus, seriesBody) = await PostForwardAsync(client, new { seriesInstanceUID = "1.2.3.999", author = "john" });
        Assert.Equal(HttpStatusCode.NotFound, seriesStatus);
        Assert.Contains("series not found", seriesBody.GetProperty("detail").GetString());
        // An unknown container, and one holding only DICOM instances (no non-DICOM slide): 404.
        foreach (var container in new[] { "CNT-UNKNOWN", "CNT-KNOWN" })
        {
            var (containerStatus, containerBody) = await PostForwardAsync(client, new { containerIdentifier = container, author = "john" });
            Assert.Equal(HttpStatusCode.NotFound, containerStatus);
            Assert.Contains("container identifier not found", containerBody.GetProperty("detail").GetString());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/o3-dpacs-wado/forwards/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/o3-dpacs-wado/forwards/{Guid.NewGuid()}/retry", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/o3-dpacs-wado/forwards?state=lost")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/o3-dpacs-wado/forwards?state=1")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/o3-dpacs-wado/forwards?limit=0")).StatusCode);
        Assert.Equal(0, await ForwardEventCountAsync(database.ConnectionString));

        // Both variants accepted: 200, one ForwardRequested each, listed as pending (the peer is unreachable).
        var bySeries = await ForwardSeriesAsync(client, stored[0].Series);
        var (containerOk, containerOkBody) = await PostForwardAsync(client, new { containerIdentifier = "CNT-SLIDE", author = "john" });
        Assert.Equal(HttpStatusCode.OK, containerOk);
        var byContainer = Guid.Parse(Assert.Single(containerOkBody.GetProperty("forwards").EnumerateArray()).GetString()!);
        var (_, all) = await client.GetJsonAsync("/o3-dpacs-wado/forwards");
        Assert.Equal(new[] { bySeries, byContainer }.Order(), all.EnumerateArray().Select(f => f.GetProperty("forwardId").GetGuid()).Order());
        Assert.Equal(slide.GetProperty("SeriesInstanceUID").GetString(), Assert.Single((await ForwardAsync(client, byContainer)).GetProperty("series").EnumerateArray()).GetProperty("seriesInstanceUid").GetString());

        // A reader without studies.write cannot forward.
        var reader = await app.ClientForTenantAsync(Tenant, Domain.Tenants.Scopes.StudiesRead);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/o3-dpacs-wado/series/forward", new { seriesInstanceUID = stored[0].Series, author = "john" })).StatusCode);
    }

    [Theory]
    [InlineData("none", "series", "forward job not configured")]
    [InlineData("none", "container", "forward job not configured")]
    [InlineData("jobs-without-destinations", "series", "forward node not configured")]
    [InlineData("jobs-without-destinations", "container", "forward endpoint not configured")]
    [InlineData("unknown-node", "series", "forward node not found")]
    [InlineData("node-without-url", "series", "forward node not configured")]
    public async Task A_missing_or_incomplete_forward_configuration_is_documents_500_with_its_text_and_no_event(string configuration, string variant, string text)
    {
        var settings = configuration switch
        {
            "none" => new Dictionary<string, string?>(),
            "jobs-without-destinations" => new()
            {
                ["Forwarding:Jobs:series-job:Type"] = "ForwardSeries",
                ["Forwarding:Jobs:slides-job:Type"] = "ForwardNonDicomSlides",
                ["Forwarding:Jobs:slides-job:Authorization"] = "Bearer x",
            },
            "unknown-node" => new()
            {
                ["Forwarding:Nodes:peer:Url"] = "http://127.0.0.1:9/dicom-web",
                ["Forwarding:Jobs:series-job:Type"] = "ForwardSeries",
                ["Forwarding:Jobs:series-job:Node"] = "elsewhere",
            },
            _ => new()
            {
                ["Forwarding:Nodes:peer:Authorization"] = "Bearer x",
                ["Forwarding:Jobs:series-job:Type"] = "ForwardSeries",
                ["Forwarding:Jobs:series-job:Node"] = "peer",
            },
        };
        await using var app = new AppFactory(database.ConnectionString, settings);
        var client = await app.ClientForTenantAsync(Tenant);
        var stored = await StoreSeriesAsync(client, 1, container: "CNT-500");
        Assert.Equal(0, await ForwardEventCountAsync(database.ConnectionString));

        var (status, problem) = await PostForwardAsync(client,
            variant == "series" ? new { seriesInstanceUID = stored[0].Series, author = "john" } : new { containerIdentifier = "CNT-500", author = "john" });
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal(500, problem.GetProperty("status").GetInt32());
        Assert.Equal(text, problem.GetProperty("detail").GetString());
        Assert.Equal(0, await ForwardEventCountAsync(database.ConnectionString));

        // Bad input is still 400 (checked before the configuration).
        Assert.Equal(HttpStatusCode.BadRequest, (await PostForwardAsync(client, new { author = "john" })).Status);
    }

    [Fact]
    public async Task A_database_failure_while_finding_the_series_is_documents_500_database_error()
    {
        await using var app = new AppFactory(database.ConnectionString, BothJobs());
        var client = await app.ClientForTenantAsync(Tenant);
        var stored = await StoreSeriesAsync(client, 1);
        Assert.Equal(HttpStatusCode.NotFound, (await PostForwardAsync(client, new { seriesInstanceUID = "1.2.3.4", author = "john" })).Status);

        // The QIDO series table goes away under the running service (and comes back after).
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        var table = (string)(await new NpgsqlCommand(
            "select table_schema || '.' || table_name from information_schema.tables where table_name = 'mt_doc_qidoseries'", connection).ExecuteScalarAsync())!;
        await new NpgsqlCommand($"alter table {table} rename to mt_doc_qidoseries_away", connection).ExecuteNonQueryAsync();
        try
        {
            var (status, problem) = await PostForwardAsync(client, new { seriesInstanceUID = stored[0].Series, author = "john" });
            Assert.Equal(HttpStatusCode.InternalServerError, status);
            Assert.Equal("database error", problem.GetProperty("detail").GetString());
        }
        finally
        {
            await new NpgsqlCommand($"alter table {table.Split('.')[0]}.mt_doc_qidoseries_away rename to mt_doc_qidoseries", connection).ExecuteNonQueryAsync();
        }

        Assert.Equal(HttpStatusCode.OK, (await PostForwardAsync(client, new { seriesInstanceUID = stored[0].Series, author = "john" })).Status);
    }
}
