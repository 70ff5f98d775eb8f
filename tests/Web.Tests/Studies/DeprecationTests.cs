using System.Net;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.Studies;

/// <summary>Document e's series and study deprecation, and our restore: every read path, the rejection note, the documented errors.</summary>
public sealed class DeprecationTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private Task<HttpClient> Client(string tenant) => fixture.App.ClientForTenantAsync(tenant);

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string json) =>
        client.PostAsync("/o3-dpacs-wado/" + path, Json.Body(json));

    private static async Task<string> OkBodyAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return body;
    }

    private static Task WaitHiddenAsync(HttpClient client, string study, string series) =>
        Eventually.Until(
            async () => (await client.GetAsync($"/dicomweb/studies/{study}/series/{series}/metadata")).StatusCode,
            status => status == HttpStatusCode.NotFound, TimeSpan.FromSeconds(30), "the deprecation to complete");

    [Fact]
    public async Task A_deprecated_series_leaves_every_read_path_carries_a_rejection_note_and_comes_back_on_restore()
    {
        var client = await Client("deprecation-series");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 2);
        var (gone, kept) = (study.Instances[0], study.Instances[2]);
        Assert.All(await study.ReadPathsAsync(client, gone), p => Assert.True(p.Value, p.Key + " before"));
        var countBefore = await UploadedStudy.CountAsync(client);

        var response = await PostAsync(client, "series/deprecation", $$"""{"seriesInstanceUid":"{{gone.Series}}","author":"JaneDoe","reason":"Wrong series"}""");

        Assert.Equal(
            $$$"""{"message":"deprecation successful","request":{"seriesInstanceUid":"{{{gone.Series}}}","reason":"Wrong series","author":"JaneDoe"}}""",
            await OkBodyAsync(response));
        await WaitHiddenAsync(client, study.Study, gone.Series);
        Assert.All(await study.ReadPathsAsync(client, gone), p => Assert.False(p.Value, p.Key + " after deprecation"));
        Assert.All(await study.ReadPathsAsync(client, kept), p => Assert.True(p.Value, p.Key + " of the other series"));
        Assert.Equal(countBefore, await UploadedStudy.CountAsync(client));

        // The rejection note (IHE IOCM) is a new KO series of the study, retrievable by WADO-RS, read by DCMTK.
        var (_, series) = await client.QidoAsync($"/dicomweb/studies/{study.Study}/series?Modality=KO");
        var koSeries = Assert.Single(series.EnumerateArray()).Value("0020000E")!;
        var (_, instances) = await client.QidoAsync($"/dicomweb/studies/{study.Study}/series/{koSeries}/instances");
        var kosUid = Assert.Single(instances.EnumerateArray()).Value("00080018")!;
        var kos = await KeyObjectOracle.RetrieveAsync(client, study.Study, koSeries, kosUid);
        var dump = KeyObjectOracle.Dump(kos);
        Assert.Contains("(0040,a043) SQ", dump); // Concept Name Code Sequence
        Assert.Contains("[113001]", dump);
        Assert.Contains("[Rejected for Quality Reasons]", dump);
        Assert.Contains("[KO]", dump);
        var referenced = KeyObjectOracle.ReferencedInstances(kos);
        Assert.Equal(study.Instances.Where(i => i.Series == gone.Series).Select(i => i.Sop).Order(), referenced.Evidence.Order());
        Assert.Equal(referenced.Evidence.Order(), referenced.Content.Order());

        // Restore: every read path shows the series again, and the rejection note is withdrawn.
        var restored = await PostAsync(client, "series/deprecation/restore",
            $$"""{"studyInstanceUid":"{{study.Study}}","seriesInstanceUid":"{{gone.Series}}","author":"JaneDoe","reason":"Deprecated by mistake"}""");
        Assert.Equal("""{"message":"restore successful","restoredInstances":2}""", await OkBodyAsync(restored));
        Assert.All(await study.ReadPathsAsync(client, gone), p => Assert.True(p.Value, p.Key + " after restore"));
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync($"/dicomweb/studies/{study.Study}/series?Modality=KO")).StatusCode);

        // Nothing more to restore.
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(client, "series/deprecation/restore",
            $$"""{"studyInstanceUid":"{{study.Study}}","seriesInstanceUid":"{{gone.Series}}","author":"JaneDoe","reason":"again"}""")).StatusCode);
    }

    [Fact]
    public async Task A_study_deprecated_by_accession_number_leaves_the_count_and_every_read_path_and_comes_back()
    {
        var client = await Client("deprecation-study");
        var accession = "ACC-" + Guid.NewGuid().ToString("N")[..10];
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 1, accessionNumber: accession);
        var countBefore = await UploadedStudy.CountAsync(client);
        Assert.All(await study.StudyPathsAsync(client), p => Assert.True(p.Value, p.Key + " before"));

        var response = await PostAsync(client, "studies/deprecation", $$"""{"accessionNumber":"{{accession}}","author":"JaneDoe","reason":"Wrong study"}""");

        Assert.Equal(
            $$$"""{"message":"deprecation successful","request":{"accessionNumber":"{{{accession}}}","author":"JaneDoe","reason":"Wrong study"}}""",
            await OkBodyAsync(response));
        await Eventually.Until(() => UploadedStudy.CountAsync(client), n => n == countBefore - 1, TimeSpan.FromSeconds(30), "the study to leave the count");
        Assert.All(await study.StudyPathsAsync(client), p => Assert.False(p.Value, p.Key + " after deprecation"));
        foreach (var instance in study.Instances)
        {
            Assert.All(await study.ReadPathsAsync(client, instance), p => Assert.False(p.Value, p.Key + " after deprecation"));
        }

        // Deprecated already: not found again.
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(client, "studies/deprecation",
            $$"""{"studyInstanceUid":"{{study.Study}}","author":"JaneDoe","reason":"again"}""")).StatusCode);

        var restored = await PostAsync(client, "studies/deprecation/restore", $$"""{"studyInstanceUid":"{{study.Study}}","author":"JaneDoe","reason":"mistake"}""");
        Assert.Equal("""{"message":"restore successful","restoredInstances":2}""", await OkBodyAsync(restored));
        Assert.Equal(countBefore, await UploadedStudy.CountAsync(client));
        Assert.All(await study.StudyPathsAsync(client), p => Assert.True(p.Value, p.Key + " after restore"));
        foreach (var instance in study.Instances)
        {
            Assert.All(await study.ReadPathsAsync(client, instance), p => Assert.True(p.Value, p.Key + " after restore"));
        }

        // The restored study carries no rejection note.
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync($"/dicomweb/studies/{study.Study}/series?Modality=KO")).StatusCode);
    }

    [Fact]
    public async Task A_study_is_deprecated_by_its_uid_and_the_request_is_echoed()
    {
        var client = await Client("deprecation-study-uid");
        var study = await UploadedStudy.UploadAsync(client, series: 1, perSeries: 1);
        var response = await PostAsync(client, "studies/deprecation", $$"""{"studyInstanceUid":"{{study.Study}}","author":"JaneDoe","reason":"Wrong study"}""");
        Assert.Equal(
            $$$"""{"message":"deprecation successful","request":{"studyInstanceUid":"{{{study.Study}}}","author":"JaneDoe","reason":"Wrong study"}}""",
            await OkBodyAsync(response));
        await WaitHiddenAsync(client, study.Study, study.Instances[0].Series);
        Assert.All(await study.StudyPathsAsync(client), p => Assert.False(p.Value, p.Key));
    }

    [Fact]
    public async Task One_accession_number_of_several_studies_and_one_container_of_several_series_are_409_and_change_nothing()
    {
        var client = await Client("deprecation-ambiguous");
        var accession = "ACC-" + Guid.NewGuid().ToString("N")[..10];
        var container = "BOX-" + Guid.NewGuid().ToString("N")[..10];
        var first = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 1, accessionNumber: accession, containerOfSeries: _ => container);
        await UploadedStudy.UploadAsync(client, series: 1, perSeries: 1, accessionNumber: accession);
        var events = await EventCountAsync();

        var studies = await PostAsync(client, "studies/deprecation", $$"""{"accessionNumber":"{{accession}}","author":"a","reason":"r"}""");
        await AssertProblemAsync(studies, HttpStatusCode.Conflict, "Multiple studies found");
        var series = await PostAsync(client, "series/deprecation", $$"""{"containerIdentifier":"{{container}}","author":"a","reason":"r"}""");
        await AssertProblemAsync(series, HttpStatusCode.Conflict, "Multiple series found");
        Assert.Equal(events, await EventCountAsync());

        // A container identifier of one series deprecates that series.
        var single = "BOX-" + Guid.NewGuid().ToString("N")[..10];
        var other = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 1, containerOfSeries: s => s == 0 ? single : null);
        var ok = await PostAsync(client, "series/deprecation", $$"""{"containerIdentifier":"{{single}}","author":"a","reason":"r"}""");
        Assert.Equal(
            $$$"""{"message":"deprecation successful","request":{"containerIdentifier":"{{{single}}}","reason":"r","author":"a"}}""",
            await OkBodyAsync(ok));
        await WaitHiddenAsync(client, other.Study, other.Instances[0].Series);
        Assert.All(await other.ReadPathsAsync(client, other.Instances[1]), p => Assert.True(p.Value, p.Key));
        _ = first;
    }

    public static TheoryData<string, string, HttpStatusCode> BadRequests => new()
    {
        { "series/deprecation", "", HttpStatusCode.BadRequest },
        { "series/deprecation", "not json", HttpStatusCode.BadRequest },
        { "series/deprecation", "[]", HttpStatusCode.BadRequest },
        { "series/deprecation", """{"author":"a","reason":"r"}""", HttpStatusCode.BadRequest },
        { "series/deprecation", """{"seriesInstanceUid":"1.2.3","containerIdentifier":"X","author":"a","reason":"r"}""", HttpStatusCode.BadRequest },
        { "series/deprecation", """{"seriesInstanceUid":"1.2.3","reason":"r"}""", HttpStatusCode.BadRequest },
        { "series/deprecation", """{"seriesInstanceUid":"1.2.3","author":"a"}""", HttpStatusCode.BadRequest },
        { "series/deprecation", """{"seriesInstanceUid":123,"author":"a","reason":"r"}""", HttpStatusCode.BadRequest },
        { "series/deprecation", """{"seriesInstanceUid":"not-a-uid","author":"a","reason":"r"}""", HttpStatusCode.BadRequest },
        { "series/deprecation", """{"seriesInstanceUid":"1.2.3","author":"","reason":"r"}""", HttpStatusCode.BadRequest },
        { "series/deprecation", """{"seriesInstanceUid":"1.2.3","author":["a"],"reason":"r"}""", HttpStatusCode.BadRequest },
        { "series/deprecation", """{"seriesInstanceUid":"1.2.3","author":"a","reason":"r","extra":1}""", HttpStatusCode.BadRequest },
        { "series/deprecation", """{"seriesInstanceUid":"1.2.999.404","author":"a","reason":"r"}""", HttpStatusCode.NotFound },
        { "series/deprecation", """{"containerIdentifier":"NO-SUCH-BOX","author":"a","reason":"r"}""", HttpStatusCode.NotFound },
        { "studies/deprecation", "", HttpStatusCode.BadRequest },
        { "studies/deprecation", "{", HttpStatusCode.BadRequest },
        { "studies/deprecation", """{"author":"a","reason":"r"}""", HttpStatusCode.BadRequest },
        { "studies/deprecation", """{"studyInstanceUid":"1.2.3","accessionNumber":"A","author":"a","reason":"r"}""", HttpStatusCode.BadRequest },
        { "studies/deprecation", """{"studyInstanceUid":"1.2.3","reason":"r"}""", HttpStatusCode.BadRequest },
        { "studies/deprecation", """{"accessionNumber":true,"author":"a","reason":"r"}""", HttpStatusCode.BadRequest },
        { "studies/deprecation", """{"studyInstanceUid":"1.2.999.404","author":"a","reason":"r"}""", HttpStatusCode.NotFound },
        { "studies/deprecation", """{"accessionNumber":"NO-SUCH-ACC","author":"a","reason":"r"}""", HttpStatusCode.NotFound },
        { "studies/deprecation/restore", "", HttpStatusCode.BadRequest },
        { "studies/deprecation/restore", """{"studyInstanceUid":"1.2.3"}""", HttpStatusCode.BadRequest },
        { "studies/deprecation/restore", """{"studyInstanceUid":"1.2.999.404","author":"a","reason":"r"}""", HttpStatusCode.NotFound },
        { "series/deprecation/restore", """{"studyInstanceUid":"1.2.3","author":"a","reason":"r"}""", HttpStatusCode.BadRequest },
        { "series/deprecation/restore", """{"studyInstanceUid":"1.2.999.404","seriesInstanceUid":"1.2.3","author":"a","reason":"r"}""", HttpStatusCode.NotFound },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_requests_get_the_documented_status_and_change_nothing(string path, string body, HttpStatusCode expected)
    {
        var client = await Client("deprecation-bad");
        var events = await EventCountAsync();
        var response = await PostAsync(client, path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path} {body} → {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(events, await EventCountAsync());
    }

    [Fact]
    public async Task Deprecation_needs_the_studies_write_scope()
    {
        var client = await fixture.App.ClientForTenantAsync("deprecation-scope", Domain.Tenants.Scopes.StudiesRead);
        var response = await PostAsync(client, "studies/deprecation", """{"studyInstanceUid":"1.2.3","author":"a","reason":"r"}""");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string title)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal(title, JsonDocument.Parse(text).RootElement.GetProperty("title").GetString());
    }

    private Task<long> EventCountAsync() => EventLog.SettledCountAsync(fixture.ConnectionString);
}

/// <summary>Concurrent deprecations of one series: exactly one wins, and the read models equal a rebuild from the log.</summary>
public sealed class DeprecationRaceTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Twenty_concurrent_deprecations_of_one_series_have_one_winner_and_read_models_equal_a_rebuild()
    {
        var client = await fixture.App.ClientForTenantAsync("deprecation-race");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 2);
        var series = study.Instances[0].Series;

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.PostAsync("/o3-dpacs-wado/series/deprecation",
            Json.Body($$"""{"seriesInstanceUid":"{{series}}","author":"racer{{i}}","reason":"race"}"""))));

        var codes = responses.Select(r => r.StatusCode).ToList();
        Assert.Equal(1, codes.Count(c => c == HttpStatusCode.OK));
        Assert.All(codes.Where(c => c != HttpStatusCode.OK), c => Assert.True(c is HttpStatusCode.Conflict or HttpStatusCode.NotFound, c.ToString()));
        await Eventually.Until(
            async () => (await client.GetAsync($"/dicomweb/studies/{study.Study}/series/{series}/metadata")).StatusCode,
            s => s == HttpStatusCode.NotFound, TimeSpan.FromSeconds(30), "the deprecation to complete");

        await using (var connection = new NpgsqlConnection(fixture.ConnectionString))
        {
            await connection.OpenAsync();
            var started = (long)(await new NpgsqlCommand("select count(*) from eventsourced.mt_events where type = 'study_deprecation_started'", connection).ExecuteScalarAsync())!;
            var completed = (long)(await new NpgsqlCommand("select count(*) from eventsourced.mt_events where type = 'study_deprecation_completed'", connection).ExecuteScalarAsync())!;
            Assert.Equal((1L, 1L), (started, completed));
        }

        // Restore, then compare every affected read model with a rebuild from the events.
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/o3-dpacs-wado/series/deprecation/restore",
            Json.Body($$"""{"studyInstanceUid":"{{study.Study}}","seriesInstanceUid":"{{series}}","author":"a","reason":"r"}"""))).StatusCode);
        var second = study.Instances[2].Series;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/o3-dpacs-wado/series/deprecation",
            Json.Body($$"""{"seriesInstanceUid":"{{second}}","author":"a","reason":"r"}"""))).StatusCode);
        await Eventually.Until(
            async () => (await client.GetAsync($"/dicomweb/studies/{study.Study}/series/{second}/metadata")).StatusCode,
            s => s == HttpStatusCode.NotFound, TimeSpan.FromSeconds(30), "the second deprecation to complete");

        await ReadModelTables.AssertStudyReadModelsEqualARebuildAsync(fixture.App.Store, fixture.ConnectionString);
    }
}

/// <summary>A deprecation held pending (StudyLifecycle:DeprecationDelay) refuses a second one with the documented 409.</summary>
public sealed class PendingDeprecationFixture : ServiceFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["StudyLifecycle:DeprecationDelay"] = "00:00:04",
    };
}

public sealed class PendingDeprecationTests(PendingDeprecationFixture fixture) : IClassFixture<PendingDeprecationFixture>
{
    [Fact]
    public async Task A_second_deprecation_while_one_is_pending_is_409_and_the_first_completes()
    {
        var client = await fixture.App.ClientForTenantAsync("deprecation-pending");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 1);
        var (first, other) = (study.Instances[0].Series, study.Instances[1].Series);

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/o3-dpacs-wado/series/deprecation",
            Json.Body($$"""{"seriesInstanceUid":"{{first}}","author":"a","reason":"r"}"""))).StatusCode);
        var series = await client.PostAsync("/o3-dpacs-wado/series/deprecation", Json.Body($$"""{"seriesInstanceUid":"{{other}}","author":"a","reason":"r"}"""));
        var whole = await client.PostAsync("/o3-dpacs-wado/studies/deprecation", Json.Body($$"""{"studyInstanceUid":"{{study.Study}}","author":"a","reason":"r"}"""));
        var restore = await client.PostAsync("/o3-dpacs-wado/studies/deprecation/restore", Json.Body($$"""{"studyInstanceUid":"{{study.Study}}","author":"a","reason":"r"}"""));

        Assert.Equal(HttpStatusCode.Conflict, series.StatusCode);
        Assert.Equal("Series has already a pending deprecation", JsonDocument.Parse(await series.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.Conflict, whole.StatusCode);
        Assert.Equal("Study has already a pending deprecation", JsonDocument.Parse(await whole.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.Conflict, restore.StatusCode);

        // Pending: still visible; completed: gone, and the other series can be deprecated.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/dicomweb/studies/{study.Study}/series/{first}/metadata")).StatusCode);
        await Eventually.Until(
            async () => (await client.GetAsync($"/dicomweb/studies/{study.Study}/series/{first}/metadata")).StatusCode,
            s => s == HttpStatusCode.NotFound, TimeSpan.FromSeconds(60), "the delayed deprecation to complete");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/o3-dpacs-wado/series/deprecation",
            Json.Body($$"""{"seriesInstanceUid":"{{other}}","author":"a","reason":"r"}"""))).StatusCode);
    }
}
