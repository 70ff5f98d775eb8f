using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.Ingestion;

/// <summary>
/// Durability under a hard kill: four clients store instances through STOW-RS into a
/// separate server process, which is SIGKILLed mid-stream and restarted. Every instance acknowledged
/// with 200 must be recorded with an intact blob, and no recorded instance may point at a missing or
/// different file.
/// </summary>
public sealed class CrashSafetyTests : IAsyncLifetime
{
    private readonly ScratchSpace scratch = new("crash-blobs");

    public Task InitializeAsync() => scratch.InitializeAsync();

    public Task DisposeAsync() => scratch.DisposeAsync();

    [Fact]
    public async Task Every_acknowledged_instance_survives_a_SIGKILL_and_no_event_points_at_a_missing_blob()
    {
        var sent = new ConcurrentDictionary<string, byte[]>();
        var acknowledged = new ConcurrentBag<string>();
        string key;

        await using (var first = new ServiceProcess(scratch.ConnectionString, scratch.Folder))
        {
            var output = await first.RunCliAsync("tenants", "ensure", "crash", "--scopes", "studies.read,studies.write");
            key = output.Split("Authorization: ")[1].Split('\n')[0].Trim();
            await first.StartAsync();
            using (var warm = new HttpClient { BaseAddress = first.BaseAddress, Timeout = TimeSpan.FromMinutes(3) })
            {
                // The first store compiles the handlers: keep that out of the clients' timing.
                warm.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
                var (bytes, _, _, sop) = SyntheticInstances.Create();
                sent[sop] = bytes;
                Assert.Equal(HttpStatusCode.OK, (await warm.PostAsync("/dicomweb/studies", Multipart.Related(bytes))).StatusCode);
                acknowledged.Add(sop);
            }

            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                using var http = new HttpClient { BaseAddress = first.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
                http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
                while (!stop.IsCancellationRequested)
                {
                    var (bytes, _, _, sop) = SyntheticInstances.Create();
                    sent[sop] = bytes;
                    try
                    {
                        var response = await http.PostAsync("/dicomweb/studies", Multipart.Related(bytes));
                        if (response.StatusCode == HttpStatusCode.OK)
                        {
                            acknowledged.Add(sop);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        if (stop.IsCancellationRequested)
                        {
                            return; // the server was killed
                        }

                        await Task.Delay(100); // slow or refused for a moment: the test is about durability, not speed
                    }
                }
            })).ToList();

            await Eventually.Until(() => Task.FromResult(acknowledged.Count), n => n >= 40, TimeSpan.FromMinutes(4), "40 acknowledged instances");
            first.Kill();
            stop.Cancel();
            await Task.WhenAll(clients);
        }

        var acked = acknowledged.ToHashSet();
        await using (var second = new ServiceProcess(scratch.ConnectionString, scratch.Folder))
        {
            await second.StartAsync(); // recovers on the same database and blob folder

            var recorded = await RecordedInstancesAsync();
            Assert.Superset(acked, recorded.Keys.ToHashSet());
            Assert.True(recorded.Count - acked.Count <= 4, $"{recorded.Count} recorded, {acked.Count} acknowledged: at most one unacknowledged in flight per client");
            foreach (var (sop, sha256) in recorded)
            {
                var path = Path.Combine(scratch.Folder, "objects", sha256[..2], sha256[2..4], sha256);
                Assert.True(File.Exists(path), $"instance {sop} points at a missing blob");
                var bytes = await File.ReadAllBytesAsync(path);
                Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
                Assert.Equal(sent[sop], bytes);
            }

            // The restarted service takes new work.
            using var http = new HttpClient { BaseAddress = second.BaseAddress };
            http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/dicomweb/studies", Multipart.Related(SyntheticInstances.Create().Bytes))).StatusCode);
        }
    }

    private async Task<Dictionary<string, string>> RecordedInstancesAsync()
    {
        await using var connection = new NpgsqlConnection(scratch.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select data->'Instance'->>'SopInstanceUid', data->'Instance'->'Blob'->>'Sha256' from eventsourced.mt_events where type = 'instance_stored'",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, string>();
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = reader.GetString(1);
        }

        return rows;
    }
}
