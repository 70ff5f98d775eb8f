using System.Net;
using System.Text.Json;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.StudyFeed;

[Collection(StudyFeedCollection.Name)]
public sealed class ChangeFeedTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Theory]
    [InlineData("/dicomweb/changefeed?limit=0")]
    [InlineData("/dicomweb/changefeed?limit=201")]
    [InlineData("/dicomweb/changefeed?offset=-1")]
    [InlineData("/dicomweb/changefeed?startTime=yesterday")]
    [InlineData("/dicomweb/changefeed?startTime=2026-12-05T00:00:00Z&endTime=2026-12-04T00:00:00Z")]
    [InlineData("/dicomweb/changefeed?includemetadata=maybe")]
    [InlineData("/dicomweb/changefeed/latest?includemetadata=maybe")]
    public async Task Bad_parameters_are_a_400(string url)
    {
        var client = await fixture.App.ClientForTenantAsync("cf-errors");
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync(url)).StatusCode);
    }

    [Fact]
    public async Task Entries_have_the_change_feed_shape_window_offset_limit_metadata_and_latest_per_tenant()
    {
        var client = await fixture.App.ClientForTenantAsync("cf-a");
        var other = await fixture.App.ClientForTenantAsync("cf-b");
        var empty = await JsonAsync(client, "/dicomweb/changefeed/latest");
        Assert.Equal(JsonValueKind.Object, empty.ValueKind);
        Assert.Empty(empty.EnumerateObject());

        var start = DateTimeOffset.UtcNow.AddSeconds(-1);
        var instances = Enumerable.Range(0, 3).Select(_ => SyntheticInstances.Create()).ToList();
        foreach (var instance in instances)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(instance.Bytes))).StatusCode);
        }

        // An order is a study change but not an instance's: it stays out of this feed.
        await client.CreateOkAsync(Support.Orders.MandatoryOnly(instances[0].Study));
        var foreign = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await other.PostAsync("/dicomweb/studies", Multipart.Related(foreign.Bytes))).StatusCode);

        // The daemon has projected them all: the foreign instance was stored last, so wait for its tenant too.
        await StudyEventsTests.ReadAllAsync(client, expected: 4);
        await StudyEventsTests.ReadAllAsync(other, expected: 1);

        var feed = (await JsonAsync(client, "/dicomweb/changefeed")).EnumerateArray().ToList();
        Assert.Equal(instances.Select(i => i.Sop), feed.Select(e => e.GetProperty("SopInstanceUid").GetString()));
        var sequences = feed.Select(e => e.GetProperty("Sequence").GetInt64()).ToList();
        Assert.Equal(sequences.Order(), sequences);
        Assert.All(feed.Zip(instances), pair =>
        {
            var (entry, instance) = pair;
            Assert.Equal(instance.Study, entry.GetProperty("StudyInstanceUid").GetString());
            Assert.Equal(instance.Series, entry.GetProperty("SeriesInstanceUid").GetString());
            Assert.Equal("create", entry.GetProperty("Action").GetString());
            Assert.Equal("current", entry.GetProperty("State").GetString());
            Assert.InRange(entry.GetProperty("Timestamp").GetDateTimeOffset(), start, DateTimeOffset.UtcNow);
            // Metadata is DICOM JSON (PS3.18 F.2): the SOP Instance UID (0008,0018) of the instance.
            Assert.Equal(instance.Sop, entry.GetProperty("Metadata").GetProperty("00080018").GetProperty("Value")[0].GetString());
        });

        var lean = (await JsonAsync(client, "/dicomweb/changefeed?includemetadata=false")).EnumerateArray().ToList();
        Assert.All(lean, e => Assert.False(e.TryGetProperty("Metadata", out _)));

        // offset counts entries to skip, as a v2 client pages with offset = entries read so far.
        var paged = new List<string>();
        for (var offset = 0; ; offset += 2)
        {
            var page = (await JsonAsync(client, $"/dicomweb/changefeed?offset={offset}&limit=2")).EnumerateArray().ToList();
            if (page.Count == 0)
            {
                break;
            }

            paged.AddRange(page.Select(e => e.GetProperty("SopInstanceUid").GetString()!));
        }

        Assert.Equal(instances.Select(i => i.Sop), paged);

        // A window after the last instance is empty; one around them holds them all.
        var later = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"));
        Assert.Empty((await JsonAsync(client, $"/dicomweb/changefeed?startTime={later}")).EnumerateArray());
        var from = Uri.EscapeDataString(start.ToString("O"));
        Assert.Equal(3, (await JsonAsync(client, $"/dicomweb/changefeed?startTime={from}&endTime={later}")).GetArrayLength());

        var latest = await JsonAsync(client, "/dicomweb/changefeed/latest");
        Assert.Equal(instances[^1].Sop, latest.GetProperty("SopInstanceUid").GetString());
        Assert.Equal(sequences[^1], latest.GetProperty("Sequence").GetInt64());

        var theirs = (await JsonAsync(other, "/dicomweb/changefeed")).EnumerateArray().ToList();
        Assert.Equal(foreign.Sop, Assert.Single(theirs).GetProperty("SopInstanceUid").GetString());
    }

    private static async Task<JsonElement> JsonAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
