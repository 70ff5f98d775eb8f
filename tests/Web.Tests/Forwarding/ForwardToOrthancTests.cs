using System.Net;
using EventSourced.Dicom;
using EventSourced.Domain.Forwarding;
using EventSourced.Web.Tests.Archive;
using EventSourced.Web.Tests.Clients;
using EventSourced.Web.Tests.Support;
using Marten;
using static EventSourced.Web.Tests.Forwarding.ForwardingSupport;

namespace EventSourced.Web.Tests.Forwarding;

/// <summary>
/// Orthanc (Debian's orthanc + orthanc-dicomweb, unchanged) as the DICOMweb peer a Forward Series job names:
/// what arrives there is compared file for file (SHA-256) with what our WADO-RS serves. Orthanc is started
/// late, killed and restarted to play a peer that is down.
/// </summary>
[Collection(nameof(OrthancPeerCollection))]
public sealed class ForwardToOrthancTests : IAsyncLifetime
{
    private const string Tenant = "forwarding";

    private readonly ScratchSpace scratch = new("forward-test");

    public Task InitializeAsync() => scratch.InitializeAsync();

    public Task DisposeAsync() => scratch.DisposeAsync();

    [Fact]
    public async Task Forwarded_series_arrive_at_Orthanc_complete_and_byte_identical_to_what_our_WADO_RS_serves()
    {
        // pydicom's CT study: series 1 native (5 slices), series 2 JPEG Lossless by DCMTK (3 slices).
        var (study, files) = await ClientTools.MakeCtStudyAsync(scratch.Folder);
        await using var orthanc = new OrthancProcess();
        await using var app = new AppFactory(scratch.ConnectionString, SeriesJobSettings(orthanc.DicomWebRoot));
        var client = await app.ClientForTenantAsync(Tenant);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related([.. files.Select(File.ReadAllBytes)]))).StatusCode);
        await orthanc.StartAsync(new Uri(client.BaseAddress!, "/dicomweb/"), "unused");

        var (_, seriesList) = await client.GetJsonAsync($"/dicomweb/studies/{study}/series");
        var series = seriesList.EnumerateArray().Select(s => s.GetProperty(DicomTags.SeriesInstanceUID.JsonKey()).GetProperty("Value")[0].GetString()!).ToList();
        Assert.Equal(2, series.Count);
        var forwards = new List<Guid>();
        foreach (var uid in series)
        {
            forwards.Add(await ForwardSeriesAsync(client, uid));
        }

        foreach (var id in forwards)
        {
            var delivered = await UntilAsync(client, id, "delivered", 1);
            Assert.Equal(SeriesJob, delivered.GetProperty("job").GetString());
            Assert.Equal("john", delivered.GetProperty("author").GetString());
        }

        var (_, instances) = await client.GetJsonAsync($"/dicomweb/studies/{study}/instances");
        var sops = instances.EnumerateArray().Select(i => i.GetProperty(DicomTags.SOPInstanceUID.JsonKey()).GetProperty("Value")[0].GetString()!).ToList();
        Assert.Equal(8, sops.Count);
        var ours = await WadoHashesAsync(client, study, sops);
        var theirs = await orthanc.FileHashesAsync(study);
        Assert.Equal(ours.OrderBy(p => p.Key), theirs.OrderBy(p => p.Key));
        Assert.Equal(5 + 3, (await ForwardAsync(client, forwards[0])).GetProperty("files").GetInt32() + (await ForwardAsync(client, forwards[1])).GetProperty("files").GetInt32());

        // The study's feed shows who asked and each delivery, per series.
        var feed = await Eventually.Until(() => StudyEventsAsync(client, study),
            events => events.Count(e => e.GetProperty("kind").GetString() == "SeriesForwarded") == 2, TimeSpan.FromSeconds(30), "the deliveries in the feed");
        var requested = feed.Where(e => e.GetProperty("kind").GetString() == "ForwardRequested").ToList();
        Assert.Equal(series.Order(), requested.Select(e => e.GetProperty("seriesInstanceUid").GetString()!).Order());
        Assert.All(requested, e =>
        {
            Assert.Equal("pacs-api", e.GetProperty("channel").GetString());
            Assert.Equal("john", e.GetProperty("details").GetProperty("author").GetString());
            Assert.Equal(orthanc.DicomWebRoot.ToString(), e.GetProperty("details").GetProperty("destination").GetString());
        });
    }

    [Fact]
    public async Task With_Orthanc_down_the_forward_fails_retries_and_delivers_once_Orthanc_is_back()
    {
        await using var orthanc = new OrthancProcess();
        await using var app = new AppFactory(scratch.ConnectionString, SeriesJobSettings(orthanc.DicomWebRoot, maxAttempts: 3));
        var client = await app.ClientForTenantAsync(Tenant);
        var instances = await StoreSeriesAsync(client, 3);

        var id = await ForwardSeriesAsync(client, instances[0].Series);
        var failed = await UntilAsync(client, id, "pending", 1);
        Assert.Contains("could not be reached", failed.GetProperty("lastError").GetString());
        Assert.True(failed.GetProperty("nextAttemptAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(50), "the first retry waits the configured hour");

        await orthanc.StartAsync(new Uri(client.BaseAddress!, "/dicomweb/"), "unused");
        Assert.Equal(1, await ScheduledMessages.MakeDueAsync(scratch.ConnectionString, "SendForward"));
        await UntilAsync(client, id, "delivered", 2);

        var ours = await WadoHashesAsync(client, instances[0].Study, instances.Select(i => i.Sop));
        Assert.Equal(ours.OrderBy(p => p.Key), (await orthanc.FileHashesAsync(instances[0].Study)).OrderBy(p => p.Key));
        Assert.Equal(
            [typeof(ForwardRequested), typeof(ForwardFailed), typeof(SeriesForwarded)],
            await StreamAsync(app, id));
    }

    [Fact]
    public async Task After_the_last_attempt_the_forward_is_dead_lettered_listed_as_failed_and_an_operator_retry_delivers_it()
    {
        await using var orthanc = new OrthancProcess();
        await using var app = new AppFactory(scratch.ConnectionString, SeriesJobSettings(orthanc.DicomWebRoot, maxAttempts: 2));
        var client = await app.ClientForTenantAsync(Tenant);
        var instances = await StoreSeriesAsync(client, 2);

        var id = await ForwardSeriesAsync(client, instances[0].Series);
        await UntilAsync(client, id, "pending", 1);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/o3-dpacs-wado/forwards/{id}/retry", null)).StatusCode);
        Assert.Equal(1, await ScheduledMessages.MakeDueAsync(scratch.ConnectionString, "SendForward"));
        var dead = await UntilAsync(client, id, "failed", 2);
        Assert.Equal(JsonValueKindNull, dead.GetProperty("nextAttemptAt").ValueKind);

        var (_, failedList) = await client.GetJsonAsync("/o3-dpacs-wado/forwards?state=failed");
        Assert.Contains(failedList.EnumerateArray(), f => f.GetProperty("forwardId").GetGuid() == id);
        var (_, pendingList) = await client.GetJsonAsync("/o3-dpacs-wado/forwards?state=pending");
        Assert.DoesNotContain(pendingList.EnumerateArray(), f => f.GetProperty("forwardId").GetGuid() == id);

        // Nothing retries a dead letter by itself; the operator does, once the peer is back.
        Assert.Equal(0, await ScheduledMessages.MakeDueAsync(scratch.ConnectionString, "SendForward"));
        await orthanc.StartAsync(new Uri(client.BaseAddress!, "/dicomweb/"), "unused");
        var retry = await client.PostAsync($"/o3-dpacs-wado/forwards/{id}/retry", null);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        await UntilAsync(client, id, "delivered", 3);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/o3-dpacs-wado/forwards/{id}/retry", null)).StatusCode);

        var ours = await WadoHashesAsync(client, instances[0].Study, instances.Select(i => i.Sop));
        Assert.Equal(ours.OrderBy(p => p.Key), (await orthanc.FileHashesAsync(instances[0].Study)).OrderBy(p => p.Key));
        Assert.Equal(
            [typeof(ForwardRequested), typeof(ForwardFailed), typeof(ForwardFailed), typeof(ForwardRetried), typeof(SeriesForwarded)],
            await StreamAsync(app, id));
        var (_, stillFailed) = await client.GetJsonAsync("/o3-dpacs-wado/forwards?state=failed");
        Assert.DoesNotContain(stillFailed.EnumerateArray(), f => f.GetProperty("forwardId").GetGuid() == id);
    }

    [Fact]
    public async Task Forwards_queued_when_the_service_process_is_killed_are_all_delivered_by_the_next_process()
    {
        await using var orthanc = new OrthancProcess();
        var blobRoot = Path.Combine(scratch.Folder, "blobs");
        var settings = new Dictionary<string, string>
        {
            ["Forwarding__Nodes__peer__Url"] = orthanc.DicomWebRoot.ToString(),
            [$"Forwarding__Jobs__{SeriesJob}__Type"] = "ForwardSeries",
            [$"Forwarding__Jobs__{SeriesJob}__Node"] = "peer",
            ["Forwarding__FirstRetryDelay"] = "01:00:00",
            ["EventStore__ScheduledJobPollingTime"] = "00:00:00.500",
        };
        var series = new List<ArchiveSupport.Instance[]>();
        var forwards = new List<Guid>();
        string key;
        await using (var first = new ServiceProcess(scratch.ConnectionString, blobRoot, settings))
        {
            var output = await first.RunCliAsync("tenants", "ensure", Tenant, "--scopes", "studies.read,studies.write");
            key = output.Split("Authorization: ")[1].Split('\n')[0].Trim();
            await first.StartAsync();
            using var client = Client(first.BaseAddress, key);
            for (var i = 0; i < 3; i++)
            {
                series.Add(await StoreSeriesAsync(client, 2));
            }

            foreach (var s in series)
            {
                forwards.Add(await ForwardSeriesAsync(client, s[0].Series));
            }

            // Killed at once: some attempts may have run (and failed: Orthanc is down), others not yet.
            first.Kill();
        }

        await orthanc.StartAsync(new Uri("http://127.0.0.1:9/unused/"), "unused");
        await using var second = new ServiceProcess(scratch.ConnectionString, blobRoot, settings);
        await second.StartAsync();
        using var next = Client(second.BaseAddress, key);
        await Eventually.Until(async () =>
            {
                await ScheduledMessages.MakeDueAsync(scratch.ConnectionString, "SendForward");
                var states = new List<string>();
                foreach (var id in forwards)
                {
                    states.Add((await ForwardAsync(next, id)).GetProperty("state").GetString()!);
                }

                return states;
            },
            states => states.All(s => s == "delivered"), TimeSpan.FromSeconds(120), "every forward to be delivered after the restart");

        foreach (var s in series)
        {
            var ours = await WadoHashesAsync(next, s[0].Study, s.Select(i => i.Sop));
            Assert.Equal(ours.OrderBy(p => p.Key), (await orthanc.FileHashesAsync(s[0].Study)).OrderBy(p => p.Key));
        }
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;

    private static HttpClient Client(Uri baseAddress, string key)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(3) };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        return client;
    }

    private static async Task<List<Type>> StreamAsync(AppFactory app, Guid id)
    {
        await using var session = app.Store.LightweightSession(Tenant);
        return [.. (await session.Events.FetchStreamAsync(id)).Select(e => e.Data.GetType())];
    }
}
