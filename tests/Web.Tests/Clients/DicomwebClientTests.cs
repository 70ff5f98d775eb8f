using System.Net;
using System.Text.Json;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Clients;

/// <summary>The slow real-peer tests: a collection of their own, so they run beside the rest of the suite.</summary>
[CollectionDefinition(nameof(DicomwebClientCollection))]
public sealed class DicomwebClientCollection;

/// <summary>
/// The <c>dicomweb-client</c> JavaScript library (the one OHIF uses), unchanged, run by Node against the
/// service on a real Kestrel listener, doing what OHIF does to show one CT study; every pixel byte it
/// receives is compared with pydicom's reading of the files that were stored.
/// </summary>
[Collection(nameof(DicomwebClientCollection))]
public sealed class DicomwebClientTests : IAsyncLifetime
{
    private readonly ScratchSpace scratch = new("dicomweb-client-test");

    public Task InitializeAsync() => scratch.InitializeAsync();

    public Task DisposeAsync() => scratch.DisposeAsync();

    [Fact]
    public async Task OHIFs_flow_through_dicomweb_client_reads_every_frame_of_a_CT_study_byte_for_byte()
    {
        await ClientTools.EnsureNodePackagesAsync();
        var (study, files) = await ClientTools.MakeCtStudyAsync(scratch.Folder);
        var expected = await ClientTools.FrameHashesAsync(files);

        await using var app = new AppFactory(scratch.ConnectionString);
        app.UseKestrel(0);
        app.StartServer();
        var key = await app.IssueKeyAsync("dicomweb-client", [.. Domain.Tenants.Scopes.All]);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        var stored = await client.PostAsync("/dicomweb/studies", Multipart.Related(files.Select(File.ReadAllBytes).ToArray()));
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);

        var output = await ClientTools.RunAsync("node",
            [Path.Combine(ClientTools.Folder, "dicomweb-client", "ohif-flow.js"), new Uri(client.BaseAddress!, "/dicomweb").ToString(), key, study],
            Path.Combine(ClientTools.Folder, "dicomweb-client"));
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        var studyLine = Assert.Single(lines, l => l.GetProperty("kind").GetString() == "study");
        Assert.Equal("DOE^JANE", studyLine.GetProperty("patientName").GetProperty("Alphabetic").GetString());
        Assert.Equal(8, studyLine.GetProperty("instances").GetInt32());
        Assert.Equal([5, 3], lines.Where(l => l.GetProperty("kind").GetString() == "series").Select(l => l.GetProperty("instances").GetInt32()).Order().Reverse());

        // Through the frames URLs: every frame of every instance, equal to pydicom's frames.
        var frames = lines.Where(l => l.GetProperty("kind").GetString() == "frame")
            .GroupBy(l => l.GetProperty("sopInstanceUID").GetString()!)
            .ToDictionary(g => g.Key, g => g.OrderBy(l => l.GetProperty("frame").GetInt32()).Select(l => l.GetProperty("sha256").GetString()!).ToArray());
        Assert.Equal(expected.Keys.Order(), frames.Keys.Order());
        foreach (var (sop, hashes) in expected)
        {
            Assert.Equal(hashes, frames[sop]);
        }

        // Through the PixelData BulkDataURIs: the native value whole, compressed values one part per frame.
        var bulk = lines.Where(l => l.GetProperty("kind").GetString() == "bulkdata")
            .GroupBy(l => l.GetProperty("sopInstanceUID").GetString()!)
            .ToDictionary(g => g.Key, g => g.OrderBy(l => l.GetProperty("part").GetInt32()).Select(l => l.GetProperty("sha256").GetString()!).ToArray());
        foreach (var (sop, hashes) in expected)
        {
            Assert.Equal(hashes, bulk[sop]);
        }

        Assert.Equal(8, lines.Single(l => l.GetProperty("kind").GetString() == "done").GetProperty("frames").GetInt32());
    }
}
