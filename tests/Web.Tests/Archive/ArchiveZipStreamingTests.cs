using System.Net;
using EventSourced.Application.Blobs;
using EventSourced.Application.Tenants;
using EventSourced.Domain.Common;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure.Blobs;
using EventSourced.Web.Tests.Support;
using Marten;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using static EventSourced.Web.Tests.Archive.ArchiveSupport;

namespace EventSourced.Web.Tests.Archive;

/// <summary>The service with a blob store that counts which blobs are opened for reading.</summary>
public sealed class CountingBlobFixture : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private AppFactory app = null!;

    public WebApplicationFactory<Program> Factory { get; private set; } = null!;

    public CountingBlobStore Blobs { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        app = new AppFactory(database.ConnectionString);
        Blobs = new CountingBlobStore(new LocalDiskBlobStore(app.BlobRoot));
        Factory = app.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddSingleton<IBlobStore>(Blobs)));
        Factory.CreateClient().Dispose();
    }

    public async Task<HttpClient> ClientAsync(string tenant)
    {
        var store = Factory.Services.GetRequiredService<IDocumentStore>();
        var by = new Actor("tests", "tests");
        await TenantAdministration.RegisterTenantAsync(store, tenant, tenant, by, DateTimeOffset.UtcNow, CancellationToken.None);
        var (issued, _) = await TenantAdministration.IssueApiKeyAsync(store, tenant, $"{tenant}-client", [.. Scopes.All], by, DateTimeOffset.UtcNow, CancellationToken.None);
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", issued!.Key);
        return client;
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await app.DisposeAsync();
        await database.DisposeAsync();
    }
}

public sealed class CountingBlobStore(IBlobStore inner) : IBlobStore
{
    private int opened;

    public int Opened => Volatile.Read(ref opened);

    public IBlobWrite BeginWrite() => inner.BeginWrite();

    public Stream? OpenRead(string sha256)
    {
        Interlocked.Increment(ref opened);
        return inner.OpenRead(sha256);
    }

    public bool Exists(string sha256) => inner.Exists(sha256);

    public void Delete(string sha256) => inner.Delete(sha256);

    public int SweepAbandonedWrites(TimeSpan olderThan) => inner.SweepAbandonedWrites(olderThan);

    public IEnumerable<(string Sha256, DateTimeOffset ModifiedAt)> ListCommitted() => inner.ListCommitted();

    public bool DeleteIfNotModifiedSince(string sha256, DateTimeOffset notModifiedSince) => inner.DeleteIfNotModifiedSince(sha256, notModifiedSince);
}

/// <summary>
/// dicom/get streams: the zip leaves the server while it is being written, one blob at a time. The
/// client reads the first 200 KB of a zip of three 600 KB files and stops; the response pipe holds only
/// so much (back-pressure), so a streaming server is still inside the first file (one blob opened), where
/// one that built the zip in memory first would have opened all three before sending a byte.
/// </summary>
public sealed class ArchiveZipStreamingTests(CountingBlobFixture fixture) : IClassFixture<CountingBlobFixture>
{
    [Fact]
    public async Task The_zip_is_written_to_the_response_as_the_blobs_are_read()
    {
        var client = await fixture.ClientAsync("archive-streaming");
        var first = Create("P-STREAM", pixelBytes: 600_000);
        var files = new List<Instance>
        {
            first,
            Create("P-STREAM", first.Study, first.Series, pixelBytes: 600_002),
            Create("P-STREAM", first.Study, first.Series, pixelBytes: 600_004),
        };
        foreach (var file in files)
        {
            await client.UploadOkAsync(file.Bytes, "proj", "arch");
        }

        var before = fixture.Blobs.Opened;
        var url = "/api/v1/dicom/get/" + Query(("Project", "proj"), ("Archive", "arch"), ("PatientID", "P-STREAM"),
            ("StudyInstanceUID", first.Study), ("SeriesInstanceUID", first.Series));
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentLength);
        await using var body = await response.Content.ReadAsStreamAsync();

        var zip = new MemoryStream();
        var buffer = new byte[200_000];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await body.ReadAsync(buffer.AsMemory(read));
            Assert.True(n > 0, "the zip ended early");
            read += n;
        }

        Assert.Equal(1, fixture.Blobs.Opened - before);

        zip.Write(buffer);
        await body.CopyToAsync(zip);
        Assert.Equal(3, fixture.Blobs.Opened - before);
        var entries = Entries(zip.ToArray());
        Assert.Equal(files.Count, entries.Count);
        foreach (var file in files)
        {
            Assert.Equal(file.Bytes, entries[$"{file.Sop}.dcm"]);
        }
    }
}
