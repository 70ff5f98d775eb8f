using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Studies;

/// <summary>The service with every kind of location: the local medium, a physical medium, two buckets on a real s3rver, and a bucket that is configured but missing on its server.</summary>
public sealed class StorageFixture : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public S3Server S3 { get; private set; } = null!;

    public AppFactory App { get; private set; } = null!;

    public string ArchiveRoot { get; } = Path.Combine(Path.GetTempPath(), "eventsourced-test-media", Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        S3 = await S3Server.StartAsync("online-bucket", "cold-bucket");
        var settings = new Dictionary<string, string?> { ["Storage:PhysicalMedia:archive:Root"] = ArchiveRoot };
        foreach (var bucket in new[] { "online-bucket", "cold-bucket", "missing-bucket" })
        {
            foreach (var (key, value) in S3.BucketSettings(bucket))
            {
                settings[key] = value;
            }
        }

        App = new AppFactory(database.ConnectionString, settings);
        App.CreateClient().Dispose();
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await S3.DisposeAsync();
        await database.DisposeAsync();
        if (Directory.Exists(ArchiveRoot))
        {
            Directory.Delete(ArchiveRoot, recursive: true);
        }
    }
}

public sealed class StorageRelocationTests(StorageFixture fixture) : IClassFixture<StorageFixture>
{
    [Fact]
    public async Task A_pathology_study_moves_with_its_slide_file_and_still_serves_it()
    {
        var client = await fixture.App.ClientForTenantAsync("storage-slides");
        var tiff = Pathology.SlideFiles.TiledTiff(64, 48, seed: 11);
        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(tiff));
        var stored = await client.PostAsync("/o3-dpacs-wado/pathoRsListener/PATHOLOGY/studies",
            Pathology.SlideFiles.Form(Pathology.SlideFiles.Metadata("ACC-SLIDE-RELOC", "CONT-RELOC-1"), tiff, "reloc.tif", fileHash: Pathology.SlideFiles.Sha1(tiff)));
        Assert.True(stored.StatusCode == HttpStatusCode.OK, await stored.Content.ReadAsStringAsync());
        Assert.Contains(sha256, Relocation.BlobsOnDisk(fixture.App.BlobRoot));

        var moved = await Relocation.PostAsync(client, new { accessionNumber = "ACC-SLIDE-RELOC", physicalMediumName = "archive", author = "JaneDoe" });
        Assert.True(moved.StatusCode == HttpStatusCode.OK, await moved.Content.ReadAsStringAsync());

        // The slide file went with its study (copied, verified, the old copy removed), and is served from there.
        Assert.Contains(sha256, Relocation.BlobsOnDisk(fixture.ArchiveRoot));
        Assert.DoesNotContain(sha256, Relocation.BlobsOnDisk(fixture.App.BlobRoot));
        var slide = await client.GetAsync("/o3-dpacs-wado/wholeslide?barcode=CONT-RELOC-1");
        Assert.Equal(HttpStatusCode.OK, slide.StatusCode);
        Assert.Equal(tiff, await slide.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_study_moves_to_a_bucket_takes_new_instances_there_and_moves_back_to_a_physical_medium_byte_identical()
    {
        var client = await fixture.App.ClientForTenantAsync("storage-journey");
        var study = await StoredStudy.StoreAsync(client, 3);
        Assert.Superset(study.Hashes.ToHashSet(), Relocation.BlobsOnDisk(fixture.App.BlobRoot).Intersect(study.Hashes).ToHashSet());
        Assert.Subset(Relocation.BlobsOnDisk(fixture.App.BlobRoot), study.Hashes.ToHashSet());

        // Disk → bucket: the answer echoes the request; the bytes are in the bucket only.
        var toBucket = await Relocation.PostAsync(client, new { studyInstanceUid = study.Study, bucketName = "online-bucket", author = "JaneDoe" });
        Assert.True(toBucket.StatusCode == HttpStatusCode.OK, await toBucket.Content.ReadAsStringAsync());
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse($$$"""{"message":"relocation successful","request":{"studyInstanceUid":"{{{study.Study}}}","bucketName":"online-bucket","author":"JaneDoe"}}"""),
            JsonNode.Parse(await toBucket.Content.ReadAsStringAsync())));
        Assert.Subset(await Relocation.BlobsInBucketAsync(fixture.S3, "online-bucket"), study.Hashes.ToHashSet());
        Assert.Empty(Relocation.BlobsOnDisk(fixture.App.BlobRoot).Intersect(study.Hashes));
        Assert.Equal(study.Hashes, await study.RetrievedHashesAsync(client));

        // A new instance of the study is stored into its bucket.
        var added = await study.AddAsync(client);
        Assert.Contains(added, await Relocation.BlobsInBucketAsync(fixture.S3, "online-bucket"));
        Assert.DoesNotContain(added, Relocation.BlobsOnDisk(fixture.App.BlobRoot));
        Assert.Equal(study.Hashes, await study.RetrievedHashesAsync(client));

        // Bucket → physical medium, by accession number.
        var toMedium = await Relocation.PostAsync(client, new { accessionNumber = study.Accession, physicalMediumName = "archive", author = "JaneDoe" });
        Assert.Equal(HttpStatusCode.OK, toMedium.StatusCode);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse($$$"""{"message":"relocation successful","request":{"accessionNumber":"{{{study.Accession}}}","physicalMediumName":"archive","author":"JaneDoe"}}"""),
            JsonNode.Parse(await toMedium.Content.ReadAsStringAsync())));
        Assert.Equal(study.Hashes, Relocation.BlobsOnDisk(fixture.ArchiveRoot).Intersect(study.Hashes).ToHashSet());
        Assert.Empty((await Relocation.BlobsInBucketAsync(fixture.S3, "online-bucket")).Intersect(study.Hashes));
        Assert.Equal(study.Hashes, await study.RetrievedHashesAsync(client));

        // Asking again for where the study already is succeeds and changes nothing.
        Assert.Equal(HttpStatusCode.OK, (await Relocation.PostAsync(client, new { studyInstanceUid = study.Study, physicalMediumName = "archive", author = "JaneDoe" })).StatusCode);
        Assert.Equal(study.Hashes, await study.RetrievedHashesAsync(client));

        // The feed tells both moves, who asked, from where to where.
        var moves = await Eventually.Until(async () => await RelocationsInFeedAsync(client, study.Study), m => m.Count == 2, TimeSpan.FromSeconds(30), "two relocated entries");
        Assert.Equal(("local", "online-bucket", "JaneDoe"), (moves[0]["from"], moves[0]["to"], moves[0]["author"]));
        Assert.Equal(("online-bucket", "bucket", "archive", "physicalMedium"), (moves[1]["from"], moves[1]["fromKind"], moves[1]["to"], moves[1]["toKind"]));
    }

    [Fact]
    public async Task Bytes_another_study_at_the_former_location_names_stay_there()
    {
        // Two tenants store the same file: one blob (content addressing), two studies.
        var first = await fixture.App.ClientForTenantAsync("storage-shared-1");
        var second = await fixture.App.ClientForTenantAsync("storage-shared-2");
        var study = await StoredStudy.StoreAsync(first, 1);
        var bytes = study.Sent.Values.Single();
        Assert.Equal(HttpStatusCode.OK, (await second.PostAsync("/dicomweb/studies", Multipart.Related(bytes))).StatusCode);
        var sha = StoredStudy.Sha(bytes);

        Assert.Equal(HttpStatusCode.OK, (await Relocation.PostAsync(first, new { studyInstanceUid = study.Study, physicalMediumName = "archive", author = "ops" })).StatusCode);
        Assert.Contains(sha, Relocation.BlobsOnDisk(fixture.ArchiveRoot));
        Assert.Contains(sha, Relocation.BlobsOnDisk(fixture.App.BlobRoot)); // the second tenant's study still lives there
        Assert.Equal(study.Hashes, await study.RetrievedHashesAsync(second));

        Assert.Equal(HttpStatusCode.OK, (await Relocation.PostAsync(second, new { studyInstanceUid = study.Study, physicalMediumName = "archive", author = "ops" })).StatusCode);
        Assert.DoesNotContain(sha, Relocation.BlobsOnDisk(fixture.App.BlobRoot)); // now no study at the local medium names it
        Assert.Equal(study.Hashes, await study.RetrievedHashesAsync(first));
        Assert.Equal(study.Hashes, await study.RetrievedHashesAsync(second));
    }

    [Fact]
    public async Task Every_documented_refusal_has_its_status_and_title_and_moves_nothing()
    {
        var client = await fixture.App.ClientForTenantAsync("storage-refusals");
        var study = await StoredStudy.StoreAsync(client, 1);
        var twin = await StoredStudy.StoreAsync(client, 1, study.Accession); // a second study with the same accession number
        await AssertRefusedAsync(client, new { studyInstanceUid = study.Study, physicalMediumName = "nowhere", author = "a" }, 404, "Physical medium not found");
        await AssertRefusedAsync(client, new { studyInstanceUid = study.Study, bucketName = "no-such-bucket", author = "a" }, 409, "Bucket error");
        await AssertRefusedAsync(client, new { studyInstanceUid = study.Study, bucketName = "missing-bucket", author = "a" }, 409, "Bucket error");
        await AssertRefusedAsync(client, new { accessionNumber = study.Accession, physicalMediumName = "archive", author = "a" }, 409, "Multiple studies found");
        await AssertRefusedAsync(client, new { studyInstanceUid = "1.2.3.4.5.6.7.8.9", physicalMediumName = "archive", author = "a" }, 404, "Not Found");
        await AssertRefusedAsync(client, new { accessionNumber = "NO-SUCH-ACC", physicalMediumName = "archive", author = "a" }, 404, "Not Found");
        foreach (var body in new object[]
                 {
                     new { studyInstanceUid = study.Study, accessionNumber = study.Accession, physicalMediumName = "archive", author = "a" },
                     new { physicalMediumName = "archive", author = "a" },
                     new { studyInstanceUid = study.Study, bucketName = "online-bucket", physicalMediumName = "archive", author = "a" },
                     new { studyInstanceUid = study.Study, author = "a" },
                     new { studyInstanceUid = study.Study, physicalMediumName = "archive" },
                     new { studyInstanceUid = study.Study, physicalMediumName = "archive", author = "" },
                     new { studyInstanceUid = study.Study, physicalMediumName = "archive", author = 7 },
                     new { studyInstanceUid = "not a uid", physicalMediumName = "archive", author = "a" },
                     new { studyInstanceUid = study.Study, physicalMediumName = "archive", author = "a", reason = "unknown field" },
                 })
        {
            await AssertRefusedAsync(client, body, 400, null);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/o3-dpacs-wado/studies/relocation", Json.Body("{\"studyInstanceUid\":", "application/json"))).StatusCode);

        // Bucket → another bucket is refused; the study stays whole in its bucket.
        Assert.Equal(HttpStatusCode.OK, (await Relocation.PostAsync(client, new { studyInstanceUid = twin.Study, bucketName = "online-bucket", author = "a" })).StatusCode);
        await AssertRefusedAsync(client, new { studyInstanceUid = twin.Study, bucketName = "cold-bucket", author = "a" }, 409, "Relocation not supported");
        Assert.Empty((await Relocation.BlobsInBucketAsync(fixture.S3, "cold-bucket")).Intersect(twin.Hashes));
        Assert.Equal(twin.Hashes, await twin.RetrievedHashesAsync(client));

        // Nothing moved for the refused requests.
        Assert.Equal(study.Hashes, Relocation.BlobsOnDisk(fixture.App.BlobRoot).Intersect(study.Hashes).ToHashSet());
        Assert.Equal(study.Hashes, await study.RetrievedHashesAsync(client));
    }

    private static async Task AssertRefusedAsync(HttpClient client, object body, int status, string? title)
    {
        var response = await Relocation.PostAsync(client, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{JsonSerializer.Serialize(body)} → {(int)response.StatusCode} {text}");
        Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType!.ToString());
        if (title is not null)
        {
            Assert.Equal(title, JsonDocument.Parse(text).RootElement.GetProperty("title").GetString());
        }
    }

    private static async Task<List<Dictionary<string, string>>> RelocationsInFeedAsync(HttpClient client, string study)
    {
        var page = JsonDocument.Parse(await client.GetStringAsync("/o3-dpacs-wado/studyEvents?offsetId=0&limit=1000")).RootElement;
        return [.. page.GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("kind").GetString() == "Relocated" && e.GetProperty("studyInstanceUid").GetString() == study)
            .Select(e => e.GetProperty("details").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!))];
    }
}
