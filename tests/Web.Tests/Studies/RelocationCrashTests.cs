using System.Net;
using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.Studies;

/// <summary>
/// A relocation killed between its steps (the service's test-only <c>Storage:RelocationCrashAt</c> ends
/// the process there, as a power cut would): after a restart the study reads byte-identical, the
/// location its events name holds every blob, and asking again finishes the move.
/// </summary>
public sealed class RelocationCrashTests : IAsyncLifetime
{
    private const string Bucket = "online-bucket";

    private readonly TestDatabase database = new();
    private readonly string blobRoot = Path.Combine(Path.GetTempPath(), "eventsourced-crash-relocation", Guid.NewGuid().ToString("N"));
    private S3Server s3 = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        s3 = await S3Server.StartAsync(Bucket);
    }

    public async Task DisposeAsync()
    {
        await s3.DisposeAsync();
        await database.DisposeAsync();
        if (Directory.Exists(blobRoot))
        {
            Directory.Delete(blobRoot, recursive: true);
        }
    }

    [Theory]
    [InlineData("copied-one", true)]
    [InlineData("copied", true)]
    [InlineData("switched", true)]
    [InlineData("removed-one", true)]
    [InlineData("copied-one", false)]
    [InlineData("switched", false)]
    public async Task A_relocation_killed_at_a_step_leaves_one_complete_copy_and_finishes_when_asked_again(string step, bool toBucket)
    {
        var target = toBucket ? Bucket : "local";
        StoredStudy study;
        string key;
        await using (var first = new ServiceProcess(database.ConnectionString, blobRoot, Settings($"{step}@{target}")))
        {
            var output = await first.RunCliAsync("tenants", "ensure", "relocation-crash", "--scopes", "studies.read,studies.write");
            key = output.Split("Authorization: ")[1].Split('\n')[0].Trim();
            await first.StartAsync();
            using var client = Client(first, key);
            study = await StoredStudy.StoreAsync(client, 3);
            if (!toBucket)
            {
                // Into the bucket first (the fault only fires towards the local medium), then back.
                Assert.Equal(HttpStatusCode.OK, (await Relocation.PostAsync(client, Body(study, toBucket: true))).StatusCode);
            }

            try
            {
                var response = await Relocation.PostAsync(client, Body(study, toBucket));
                Assert.Fail($"The relocation answered {(int)response.StatusCode} instead of ending the process at {step}.");
            }
            catch (HttpRequestException)
            {
                // the process died mid-request
            }

            Assert.True(await first.ExitedWithinAsync(TimeSpan.FromSeconds(30)), "the process did not end at the injected step");
        }

        await using var second = new ServiceProcess(database.ConnectionString, blobRoot, Settings(null));
        await second.StartAsync();
        using (var client = Client(second, key))
        {
            Assert.Equal(study.Hashes, await study.RetrievedHashesAsync(client));

            // The switch is one event: before it the study is at its source, after it at the target; either way that location is whole.
            var switched = await RelocationsRecordedAsync() == (toBucket ? 1 : 2);
            Assert.Equal(step is "switched" or "removed-one", switched);
            var atBucket = switched == toBucket;
            Assert.Subset(atBucket ? await Relocation.BlobsInBucketAsync(s3, Bucket) : Relocation.BlobsOnDisk(blobRoot), study.Hashes.ToHashSet());

            // Asking again completes the move and removes what the crash left at the source.
            var again = await Relocation.PostAsync(client, Body(study, toBucket));
            Assert.True(again.StatusCode == HttpStatusCode.OK, await again.Content.ReadAsStringAsync());
            var inBucket = (await Relocation.BlobsInBucketAsync(s3, Bucket)).Intersect(study.Hashes).ToHashSet();
            var onDisk = Relocation.BlobsOnDisk(blobRoot).Intersect(study.Hashes).ToHashSet();
            Assert.Equal(study.Hashes, toBucket ? inBucket : onDisk);
            Assert.Empty(toBucket ? onDisk : inBucket);
            Assert.Equal(study.Hashes, await study.RetrievedHashesAsync(client));
        }
    }

    private Dictionary<string, string> Settings(string? crashAt)
    {
        var settings = s3.BucketSettings(Bucket, "__");
        settings["Blobs__OrphanSweepInterval"] = "00:00:00"; // the sweeper stays out of what this test counts
        if (crashAt is not null)
        {
            settings["Storage__RelocationCrashAt"] = crashAt;
        }

        return settings;
    }

    private static HttpClient Client(ServiceProcess service, string key)
    {
        var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        return client;
    }

    private static object Body(StoredStudy study, bool toBucket) => toBucket
        ? new { studyInstanceUid = study.Study, bucketName = Bucket, author = "crash-test" }
        : new { studyInstanceUid = study.Study, physicalMediumName = "local", author = "crash-test" };

    private async Task<long> RelocationsRecordedAsync()
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from eventsourced.mt_events where type = 'study_relocated'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
