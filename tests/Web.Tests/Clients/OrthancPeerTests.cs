using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Clients;

/// <summary>The Orthanc peer tests: a collection of their own, so they run beside the rest of the suite.</summary>
[CollectionDefinition(nameof(OrthancPeerCollection))]
public sealed class OrthancPeerCollection;

/// <summary>
/// Orthanc with its DICOMweb plugin, unchanged, configured with this service (on a real Kestrel listener) as a
/// DICOMweb peer: it queries us (QIDO-RS), retrieves a study from us (WADO-RS), and sends us a study (STOW-RS,
/// with its 73-character boundary and chunked transfer encoding). Both directions are compared file for file by
/// the SHA-256 of the DICOM bytes.
/// </summary>
[Collection(nameof(OrthancPeerCollection))]
public sealed class OrthancPeerTests : IAsyncLifetime
{
    private readonly ScratchSpace scratch = new("orthanc-peer-test");

    public Task InitializeAsync() => scratch.InitializeAsync();

    public Task DisposeAsync() => scratch.DisposeAsync();

    [Fact]
    public async Task Orthanc_queries_retrieves_from_and_stores_to_this_service_file_for_file()
    {
        var (ourStudy, ourFiles) = await ClientTools.MakeCtStudyAsync(Path.Combine(scratch.Folder, "ours"));
        var (theirStudy, theirFiles) = await ClientTools.MakeCtStudyAsync(Path.Combine(scratch.Folder, "theirs"));
        var ourHashes = await ClientTools.FileHashesAsync(ourFiles);
        var theirHashes = await ClientTools.FileHashesAsync(theirFiles);

        await using var app = new AppFactory(scratch.ConnectionString);
        app.UseKestrel(0);
        app.StartServer();
        var key = await app.IssueKeyAsync("orthanc-peer", [.. Domain.Tenants.Scopes.All]);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(ourFiles.Select(File.ReadAllBytes).ToArray()))).StatusCode);

        await using var orthanc = new OrthancProcess();
        await orthanc.StartAsync(new Uri(client.BaseAddress!, "/dicomweb/"), key);

        // 1. Orthanc queries us (QIDO-RS through its /get proxy), with a lower-case name pattern.
        var found = await orthanc.PostJsonAsync($"/dicom-web/servers/{OrthancProcess.PeerName}/get",
            new { Uri = "/studies", Arguments = new Dictionary<string, string> { ["PatientName"] = "doe^j*", ["includefield"] = "00201208" } });
        var study = Assert.Single(found.EnumerateArray(), s => s.GetProperty("0020000D").GetProperty("Value")[0].GetString() == ourStudy);
        Assert.Equal(8, study.GetProperty("00201208").GetProperty("Value")[0].GetInt32());

        // 2. Orthanc retrieves the study from us (WADO-RS) and keeps each file byte for byte.
        await orthanc.PostJsonAsync($"/dicom-web/servers/{OrthancProcess.PeerName}/retrieve",
            new { Resources = new[] { new { Study = ourStudy } } });
        var retrieved = await orthanc.FileHashesAsync(ourStudy);
        Assert.Equal(ourHashes.OrderBy(p => p.Key), retrieved.OrderBy(p => p.Key));

        // 3. Orthanc sends us a study it holds (STOW-RS), and we keep each file byte for byte.
        foreach (var file in theirFiles)
        {
            var upload = new ByteArrayContent(await File.ReadAllBytesAsync(file));
            upload.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
            Assert.Equal(HttpStatusCode.OK, (await orthanc.Http.PostAsync("/instances", upload)).StatusCode);
        }

        var orthancStudyId = (await orthanc.PostJsonAsync("/tools/lookup", theirStudy, raw: true))[0].GetProperty("ID").GetString()!;
        await orthanc.PostJsonAsync($"/dicom-web/servers/{OrthancProcess.PeerName}/stow", new { Resources = new[] { orthancStudyId } });
        foreach (var (sop, sha) in theirHashes)
        {
            var bytes = await InstanceBytesAsync(client, theirStudy, sop);
            Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }

    /// <summary>One instance as WADO-RS serves it: the single part of the multipart answer.</summary>
    internal static async Task<byte[]> InstanceBytesAsync(HttpClient client, string study, string sop)
    {
        var instances = JsonDocument.Parse(await client.GetStringAsync($"/dicomweb/studies/{study}/instances?SOPInstanceUID={sop}")).RootElement;
        var url = new Uri(Assert.Single(instances.EnumerateArray()).GetProperty("00081190").GetProperty("Value")[0].GetString()!).PathAndQuery;
        var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var boundary = response.Content.Headers.ContentType!.Parameters.Single(p => p.Name == "boundary").Value!.Trim('"');
        var reader = new Microsoft.AspNetCore.WebUtilities.MultipartReader(boundary, await response.Content.ReadAsStreamAsync());
        var section = await reader.ReadNextSectionAsync();
        Assert.NotNull(section);
        var bytes = new MemoryStream();
        await section.Body.CopyToAsync(bytes);
        return bytes.ToArray();
    }
}
