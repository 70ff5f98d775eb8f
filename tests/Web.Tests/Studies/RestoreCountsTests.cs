using System.Net;
using EventSourced.Web.Tests.Archive;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Rebuild;
using EventSourced.Web.Tests.Support;
using static EventSourced.Web.Tests.Archive.ArchiveSupport;

namespace EventSourced.Web.Tests.Studies;

/// <summary>
/// A restore brings back several instances of one series in one event (the projections fan it out into one
/// child per instance, several for the same series document): every count and list is exactly what it was
/// before the deprecation or delete, and the rebuilt read models equal the live ones.
/// </summary>
public sealed class RestoreCountsTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private Task<HttpClient> Client(string tenant) => fixture.App.ClientForTenantAsync(tenant);

    private static async Task PostOkAsync(HttpClient client, string path, string json)
    {
        var response = await client.PostAsync("/o3-dpacs-wado/" + path, Json.Body(json));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>What every read path shows of the study, series named S0, S1, instances S0/1...: QIDO counts, QIDO/d/e lists.</summary>
    private static async Task<string> ViewAsync(HttpClient client, UploadedStudy study)
    {
        var series = study.SeriesUids.ToList();
        string Name(ArchiveSupport.Instance i) => $"S{series.IndexOf(i.Series)}/{study.Instances.Where(x => x.Series == i.Series).ToList().IndexOf(i) + 1}";
        var lines = new List<string>();

        var (_, studies) = await client.QidoAsync($"/dicomweb/studies?StudyInstanceUID={study.Study}&includefield=00201206&includefield=00201208");
        lines.Add("qido study: " + (studies.ValueKind == System.Text.Json.JsonValueKind.Array && studies.GetArrayLength() == 1
            ? $"series={studies[0].Value("00201206")} instances={studies[0].Value("00201208")}"
            : "none"));
        var (_, qidoSeries) = await client.QidoAsync($"/dicomweb/studies/{study.Study}/series?includefield=00201209");
        IEnumerable<string> seriesCounts = qidoSeries.ValueKind == System.Text.Json.JsonValueKind.Array
            ? qidoSeries.EnumerateArray().Where(s => series.Contains(s.Value("0020000E")!))
                .Select(s => $"S{series.IndexOf(s.Value("0020000E")!)}={s.Value("00201209")}").Order()
            : [];
        lines.Add(Line("qido series", seriesCounts));
        var (_, qidoInstances) = await client.QidoAsync($"/dicomweb/instances?StudyInstanceUID={study.Study}");
        var sops = qidoInstances.ValueKind == System.Text.Json.JsonValueKind.Array
            ? qidoInstances.EnumerateArray().Select(i => i.Value("00080018")).ToHashSet()
            : [];
        lines.Add(Line("qido instances", study.Instances.Where(i => sops.Contains(i.Sop)).Select(Name)));

        var d = new[] { ("Project", UploadedStudy.Project), ("Archive", UploadedStudy.Archive), ("PatientID", study.PatientId), ("StudyInstanceUID", study.Study) };
        var dList = await BodyAsync(client, "/api/v1/patient/study/series/list/" + Query(d));
        lines.Add(Line("d series list", series.Where(s => dList.Contains(s, StringComparison.Ordinal)).Select(s => $"S{series.IndexOf(s)}")));
        var dInstances = new List<string>();
        foreach (var s in series)
        {
            using var zip = await client.GetAsync("/api/v1/dicom/get/" + Query([.. d, ("SeriesInstanceUID", s)]));
            if (zip.StatusCode == HttpStatusCode.OK)
            {
                var entries = Entries(await zip.Content.ReadAsByteArrayAsync());
                dInstances.AddRange(study.Instances.Where(i => i.Series == s && entries.Any(e => e.Key.Contains(i.Sop, StringComparison.Ordinal))).Select(Name));
                dInstances.Add($"({entries.Count} files)");
            }
        }

        lines.Add(Line("d series zip", dInstances));
        var e = await BodyAsync(client, $"/o3-dpacs-wado/studyInstances?studyUid={study.Study}");
        lines.Add(Line("e studyInstances", study.Instances.Where(i => e.Contains(i.Sop, StringComparison.Ordinal)).Select(Name)));
        return string.Join('\n', lines);
    }

    private static string Line(string what, IEnumerable<string> items) => what + ": " + (items.Any() ? string.Join(' ', items) : "-");

    private static async Task<string> BodyAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound or HttpStatusCode.NoContent, $"{url} → {(int)response.StatusCode}: {body}");
        return response.StatusCode == HttpStatusCode.OK ? body : "";
    }

    private static async Task ExpectAsync(HttpClient client, UploadedStudy study, string expected, string what)
    {
        var seen = await Eventually.Until(() => ViewAsync(client, study), v => v == expected, TimeSpan.FromSeconds(20), what);
        Assert.Equal(expected, seen);
    }

    private const string Whole = """
        qido study: series=2 instances=6
        qido series: S0=3 S1=3
        qido instances: S0/1 S0/2 S0/3 S1/1 S1/2 S1/3
        d series list: S0 S1
        d series zip: S0/1 S0/2 S0/3 (3 files) S1/1 S1/2 S1/3 (3 files)
        e studyInstances: S0/1 S0/2 S0/3 S1/1 S1/2 S1/3
        """;

    /// <summary>The first series gone: <paramref name="qidoStudy"/> is the QIDO study's counts (a deprecation adds its rejection note).</summary>
    private static string OnlySecondSeries(string qidoStudy) => $"""
        qido study: {qidoStudy}
        qido series: S1=3
        qido instances: S1/1 S1/2 S1/3
        d series list: S1
        d series zip: S1/1 S1/2 S1/3 (3 files)
        e studyInstances: S1/1 S1/2 S1/3
        """;

    private const string Nothing = """
        qido study: none
        qido series: -
        qido instances: -
        d series list: -
        d series zip: -
        e studyInstances: -
        """;

    private async Task VerifyRebuildAsync()
    {
        var result = await RebuildEqualsLiveTests.VerifyAsync(fixture.App);
        Assert.True(result.Differences.Count == 0, string.Join('\n', result.Differences));
    }

    [Fact]
    public async Task A_deprecated_series_of_three_instances_comes_back_with_every_count()
    {
        var client = await Client("restore-counts-series");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 3);
        await ExpectAsync(client, study, Whole, "the upload");
        var gone = study.SeriesUids.First();

        await PostOkAsync(client, "series/deprecation", $$"""{"seriesInstanceUid":"{{gone}}","author":"JaneDoe","reason":"Wrong series"}""");
        // The study also holds the rejection note (a KO series of one instance) until the restore withdraws it.
        await ExpectAsync(client, study, OnlySecondSeries("series=2 instances=4"), "the series deprecation");

        await PostOkAsync(client, "series/deprecation/restore",
            $$"""{"studyInstanceUid":"{{study.Study}}","seriesInstanceUid":"{{gone}}","author":"JaneDoe","reason":"mistake"}""");
        await ExpectAsync(client, study, Whole, "the series restore");
        await VerifyRebuildAsync();
    }

    [Fact]
    public async Task A_deprecated_study_of_two_series_comes_back_with_every_count()
    {
        var client = await Client("restore-counts-study");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 3);
        await ExpectAsync(client, study, Whole, "the upload");

        await PostOkAsync(client, "studies/deprecation", $$"""{"studyInstanceUid":"{{study.Study}}","author":"JaneDoe","reason":"Wrong study"}""");
        await ExpectAsync(client, study, Nothing, "the study deprecation");

        await PostOkAsync(client, "studies/deprecation/restore", $$"""{"studyInstanceUid":"{{study.Study}}","author":"JaneDoe","reason":"mistake"}""");
        await ExpectAsync(client, study, Whole, "the study restore");
        await VerifyRebuildAsync();
    }

    [Fact]
    public async Task A_document_d_deleted_series_and_study_come_back_with_every_count()
    {
        var client = await Client("restore-counts-delete");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 3);
        await ExpectAsync(client, study, Whole, "the upload");
        var gone = study.SeriesUids.First();

        await ArchiveDeleteTests.DeleteOkAsync(client, "series", ArchiveDeleteTests.Params(study.PatientId, study.Study, gone));
        await ExpectAsync(client, study, OnlySecondSeries("series=1 instances=3"), "the series delete");
        var restored = await ArchiveDeleteTests.RestoreAsync(client, study.Study);
        Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
        await ExpectAsync(client, study, Whole, "the series restore");

        await ArchiveDeleteTests.DeleteOkAsync(client, "study", ArchiveDeleteTests.Params(study.PatientId, study.Study));
        await ExpectAsync(client, study, Nothing, "the study delete");
        restored = await ArchiveDeleteTests.RestoreAsync(client, study.Study);
        Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
        await ExpectAsync(client, study, Whole, "the study restore");
        await VerifyRebuildAsync();
    }
}
