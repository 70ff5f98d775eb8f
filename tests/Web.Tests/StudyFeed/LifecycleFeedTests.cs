using System.Net;
using System.Text.Json;
using EventSourced.Web.Tests.Support;
using static EventSourced.Web.Tests.Patients.PatientSupport;

namespace EventSourced.Web.Tests.StudyFeed;

/// <summary>
/// The study's later life reaches the feeds: a move to another patient, a series deprecation (pending, then
/// one entry per instance that left) and its restore, in document e's studyEvents and, per instance, in the
/// DICOMweb change feed as delete and create.
/// </summary>
[Collection(StudyFeedCollection.Name)]
public sealed class LifecycleFeedTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_move_a_deprecation_and_its_restore_appear_in_the_feeds_with_their_instances()
    {
        var client = await fixture.App.ClientForTenantAsync("feed-lifecycle");
        var (study, series, sops) = await StowStudyAsync(client, "LF-A", "LIFE^ANN", series: 2, instancesPerSeries: 2);
        var gone = sops[..2];

        await OkJsonAsync(await PostAsync(client, "studies/move",
            $$"""{"studyInstanceUid":"{{study}}","targetPatientID":"LF-B","patientName":"LIFE^BOB","userName":"john"}"""));
        await OkJsonAsync(await PostAsync(client, "series/deprecation",
            $$"""{"seriesInstanceUid":"{{series[0]}}","author":"JaneDoe","reason":"Wrong series"}"""));

        // The deprecation's work step completes asynchronously; the feed shows it when it has.
        var entries = await ReadUntilAsync(client, all => all.Count(e => Kind(e) == "InstanceDeprecated") == 2);
        var moved = Assert.Single(entries, e => Kind(e) == "StudyMoved");
        Assert.Equal(study, moved.GetProperty("studyInstanceUid").GetString());
        // The study had no earlier correction: its patient was the one of the received headers, which the event
        // does not repeat (docs/api-compatibility.md), so only the new patient is named.
        Assert.False(moved.GetProperty("details").TryGetProperty("fromPatientId", out _));
        Assert.Equal("LF-B", moved.GetProperty("details").GetProperty("toPatientId").GetString());

        var started = Assert.Single(entries, e => Kind(e) == "DeprecationStarted");
        Assert.Equal(series[0], started.GetProperty("seriesInstanceUid").GetString());
        Assert.Equal("Wrong series", started.GetProperty("reason").GetString());
        var deprecated = entries.Where(e => Kind(e) == "InstanceDeprecated").ToList();
        Assert.Equal(gone.Order(), deprecated.Select(e => e.GetProperty("sopInstanceUid").GetString()!).Order());
        Assert.All(deprecated, e => Assert.Equal(study, e.GetProperty("studyInstanceUid").GetString()));
        Assert.True(deprecated.Min(Offset) > Offset(started));

        await OkJsonAsync(await PostAsync(client, "series/deprecation/restore",
            $$"""{"studyInstanceUid":"{{study}}","seriesInstanceUid":"{{series[0]}}","author":"JaneDoe","reason":"Deprecated by mistake"}"""));
        entries = await ReadUntilAsync(client, all => all.Count(e => Kind(e) == "InstanceRestored") == 2);
        var restored = entries.Where(e => Kind(e) == "InstanceRestored").ToList();
        Assert.Equal(gone.Order(), restored.Select(e => e.GetProperty("sopInstanceUid").GetString()!).Order());
        Assert.True(restored.Min(Offset) > deprecated.Max(Offset));

        // The DICOMweb change feed: per instance of the deprecated series, create, delete, create.
        var response = await client.GetAsync("/dicomweb/changefeed?limit=200");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var feed = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
        foreach (var sop in gone)
        {
            var actions = feed.Where(e => e.GetProperty("SopInstanceUid").GetString() == sop).Select(e => e.GetProperty("Action").GetString()).ToList();
            Assert.Equal(["create", "delete", "create"], actions);
        }

        var kept = feed.Where(e => e.GetProperty("SopInstanceUid").GetString() == sops[2]).Select(e => e.GetProperty("Action").GetString());
        Assert.Equal(["create"], kept);
    }

    private static string? Kind(JsonElement e) => e.GetProperty("kind").GetString();

    private static long Offset(JsonElement e) => e.GetProperty("offsetId").GetInt64();

    internal static async Task<List<JsonElement>> ReadUntilAsync(HttpClient client, Func<List<JsonElement>, bool> done)
    {
        var all = new List<JsonElement>();
        var after = 0L;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!done(all) && DateTime.UtcNow < deadline)
        {
            var page = await StudyEventsTests.GetPageAsync(client, $"/o3-dpacs-wado/studyEvents?offsetId={after}&wait=2");
            all.AddRange(page.GetProperty("events").EnumerateArray());
            after = page.GetProperty("lastOffsetId").GetInt64();
        }

        Assert.True(done(all), "the feed did not show the expected entries: " + string.Join(", ", all.Select(Kind)));
        return all;
    }
}
