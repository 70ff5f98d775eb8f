using System.Net;
using System.Text.Json;
using EventSourced.Web.Tests.Studies;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.StudyFeed;

/// <summary>Document e's studies/createKos reaches the study feed as a "KOS stored" entry naming the manifest it stored.</summary>
[Collection(StudyFeedCollection.Name)]
public sealed class KosFeedTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_created_KOS_is_a_KosStored_entry_with_its_instance_who_asked_and_the_AE_they_named()
    {
        var client = await fixture.App.ClientForTenantAsync("feed-kos");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 2);
        var response = await client.PostAsync("/o3-dpacs-wado/studies/createKos", Json.Body($$"""{"studyInstanceUid":"{{study.Study}}","callingAE":"NGV"}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        var sop = JsonDocument.Parse(text).RootElement.GetProperty("sopInstanceUid").GetString()!;

        var entries = await Eventually.Until(
            () => ReadAllAsync(client), all => all.Any(e => Kind(e) == "KosStored"), TimeSpan.FromSeconds(60), "the KOS to reach the feed");

        var kos = Assert.Single(entries, e => Kind(e) == "KosStored");
        Assert.Equal(study.Study, kos.GetProperty("studyInstanceUid").GetString());
        Assert.Equal(sop, kos.GetProperty("sopInstanceUid").GetString());
        Assert.Equal("pacs-api", kos.GetProperty("actor").GetProperty("via").GetString());
        Assert.Equal("feed-kos-client", kos.GetProperty("actor").GetProperty("subject").GetString());
        var details = kos.GetProperty("details");
        Assert.Equal("4", details.GetProperty("referencedInstances").GetString());
        Assert.Equal("NGV", details.GetProperty("callingAE").GetString());
        Assert.Equal("113030", details.GetProperty("titleCode").GetString()); // (113030, DCM, "Manifest")

        // The KOS instance is also received like any instance, in the same series as the KosStored entry names.
        var stored = Assert.Single(entries, e => Kind(e) == "InstanceStored" && e.GetProperty("sopInstanceUid").GetString() == sop);
        Assert.Equal(kos.GetProperty("seriesInstanceUid").GetString(), stored.GetProperty("seriesInstanceUid").GetString());

        // The DICOMweb change feed has the KOS once, as the create of its instance; KosStored adds no action there.
        var feed = JsonDocument.Parse(await client.GetStringAsync("/dicomweb/changefeed?limit=200")).RootElement.EnumerateArray();
        Assert.Equal(["create"], feed.Where(e => e.GetProperty("SopInstanceUid").GetString() == sop).Select(e => e.GetProperty("Action").GetString()));
    }

    private static string? Kind(JsonElement e) => e.GetProperty("kind").GetString();

    private static async Task<List<JsonElement>> ReadAllAsync(HttpClient client)
    {
        var page = await StudyEventsTests.GetPageAsync(client, "/o3-dpacs-wado/studyEvents?offsetId=0&limit=1000");
        return [.. page.GetProperty("events").EnumerateArray()];
    }
}
