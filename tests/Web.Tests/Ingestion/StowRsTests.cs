using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EventSourced.Domain.Studies;
using EventSourced.Web.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourced.Web.Tests.Ingestion;

/// <summary>STOW-RS (PS3.18 §10.5) over HTTP, with real DICOM files from pydicom's corpus; DCMTK tells what they contain.</summary>
public sealed class StowRsTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "stow-tests";
    private const int CannotUnderstand = 0xC000;
    private const int DataSetDoesNotMatch = 0xA900;

    private Task<HttpClient> Client() => fixture.App.ClientForTenantAsync(Tenant);

    private static async Task<JsonElement> Body(HttpResponseMessage response)
    {
        Assert.Equal("application/dicom+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static IEnumerable<JsonElement> Items(JsonElement body, string tag) =>
        body.TryGetProperty(tag, out var sequence) ? sequence.GetProperty("Value").EnumerateArray() : [];

    private static string Value(JsonElement item, string tag) => item.GetProperty(tag).GetProperty("Value")[0].ToString();

    /// <summary>An attribute as DCMTK's dcmdump reads it from the file: the oracle for what we parsed.</summary>
    private static async Task<string> Dcmdump(string file, string keyword)
    {
        using var process = Process.Start(new ProcessStartInfo("dcmdump", ["-q", "-Un", "+P", keyword, Path.Combine(Multipart.CorpusFolder, file)]) { RedirectStandardOutput = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var start = output.IndexOf('[') + 1;
        return output[start..output.IndexOf(']', start)];
    }

    [Theory]
    [InlineData("CT_small.dcm")]
    [InlineData("MR_small_implicit.dcm")]
    [InlineData("ExplVR_BigEnd.dcm")]
    [InlineData("JPEG2000.dcm")]
    [InlineData("image_dfl.dcm")]
    public async Task A_stored_instance_is_acknowledged_with_its_UIDs_and_recorded_with_its_exact_bytes(string file)
    {
        var client = await Client();
        var bytes = Multipart.Corpus(file);
        var study = await Dcmdump(file, "StudyInstanceUID");
        var sop = await Dcmdump(file, "SOPInstanceUID");

        var response = await client.PostAsync("/dicomweb/studies", Multipart.Related(bytes));

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await Body(response);
        var referenced = Assert.Single(Items(body, "00081199"));
        Assert.Equal(sop, Value(referenced, "00081155"));
        Assert.Equal(await Dcmdump(file, "SOPClassUID"), Value(referenced, "00081150"));
        Assert.EndsWith($"/dicomweb/studies/{study}/series/{await Dcmdump(file, "SeriesInstanceUID")}/instances/{sop}", Value(referenced, "00081190"));
        Assert.EndsWith($"/dicomweb/studies/{study}", Value(body, "00081190"));

        await using var session = fixture.App.Store.QuerySession(Tenant);
        var stored = (await session.Events.FetchStreamAsync(Study.StreamId(Tenant, study)))
            .Select(e => e.Data).OfType<InstanceStored>().Single(e => e.Instance.SopInstanceUid == sop);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), stored.Instance.Blob.Sha256);
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(bytes)), stored.Instance.Blob.Sha1);
        Assert.Equal(bytes.Length, stored.Instance.Blob.Length);
        Assert.Equal(IngestChannel.StowRs, stored.Instance.Channel);
        Assert.Equal(sop, stored.Instance.Header.GetProperty("00080018").GetProperty("Value")[0].GetString());
        Assert.False(stored.Instance.Header.TryGetProperty("7FE00010", out var pixels) && pixels.TryGetProperty("InlineBinary", out _), "pixel data must not be in the event");

        await using var blob = fixture.App.Services.GetRequiredService<EventSourced.Application.Blobs.IBlobStore>().OpenRead(stored.Instance.Blob.Sha256)!;
        var copy = new MemoryStream();
        await blob.CopyToAsync(copy);
        Assert.Equal(bytes, copy.ToArray());
    }

    [Fact]
    public async Task Sending_the_same_instance_again_succeeds_and_appends_nothing()
    {
        var client = await Client();
        var bytes = Multipart.Corpus("MR_small.dcm");
        var study = await Dcmdump("MR_small.dcm", "StudyInstanceUID");

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(bytes))).StatusCode);
        await using var session = fixture.App.Store.QuerySession(Tenant);
        var before = (await session.Events.FetchStreamAsync(Study.StreamId(Tenant, study))).Count;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/dicomweb/studies/{study}", Multipart.Related(bytes))).StatusCode);
        Assert.Equal(before, (await session.Events.FetchStreamAsync(Study.StreamId(Tenant, study))).Count);
    }

    [Fact]
    public async Task An_instance_of_another_study_than_the_URL_fails_with_A900_and_nothing_is_stored()
    {
        var client = await Client();
        var response = await client.PostAsync("/dicomweb/studies/1.2.3.4.5.6", Multipart.Related(Multipart.Corpus("rtplan.dcm")));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var failed = Assert.Single(Items(await Body(response), "00081198"));
        Assert.Equal(DataSetDoesNotMatch, failed.GetProperty("00081197").GetProperty("Value")[0].GetInt32());
        Assert.Equal(await Dcmdump("rtplan.dcm", "SOPInstanceUID"), Value(failed, "00081155"));
        AssertNoTemporaryFiles();
    }

    [Fact]
    public async Task A_non_DICOM_part_fails_with_C000_while_the_good_part_is_stored_202()
    {
        var client = await Client();
        var content = Multipart.Related([
            (Multipart.Corpus("rtstruct.dcm"), "application/dicom"),
            ("this is not DICOM"u8.ToArray(), "application/dicom"),
        ]);

        var response = await client.PostAsync("/dicomweb/studies", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await Body(response);
        Assert.Single(Items(body, "00081199"));
        Assert.Equal(CannotUnderstand, Assert.Single(Items(body, "00081198")).GetProperty("00081197").GetProperty("Value")[0].GetInt32());
        AssertNoTemporaryFiles();
    }

    [Theory]
    [InlineData("MR_truncated.dcm")]
    [InlineData("rtplan_truncated.dcm")]
    public async Task A_truncated_instance_fails_with_C000_and_leaves_nothing_behind(string file)
    {
        var client = await Client();
        var blobsBefore = BlobCount();

        var response = await client.PostAsync("/dicomweb/studies", Multipart.Related(Multipart.Corpus(file)));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(CannotUnderstand, Assert.Single(Items(await Body(response), "00081198")).GetProperty("00081197").GetProperty("Value")[0].GetInt32());
        Assert.Equal(blobsBefore, BlobCount());
        AssertNoTemporaryFiles();
    }

    [Fact]
    public async Task A_part_of_another_media_type_fails_without_being_read_as_DICOM()
    {
        var client = await Client();
        var response = await client.PostAsync("/dicomweb/studies", Multipart.Related([(Multipart.Corpus("CT_small.dcm"), "image/jpeg")]));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }

    [Fact]
    public async Task Request_level_errors_get_their_status()
    {
        var client = await Client();
        var dicom = Multipart.Corpus("CT_small.dcm");

        var notMultipart = new ByteArrayContent(dicom);
        notMultipart.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PostAsync("/dicomweb/studies", notMultipart)).StatusCode);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PostAsync("/dicomweb/studies", Multipart.Related([(dicom, "application/dicom")], type: "application/dicom+xml"))).StatusCode);

        var noBoundary = new ByteArrayContent(dicom);
        noBoundary.Headers.TryAddWithoutValidation("Content-Type", "multipart/related; type=\"application/dicom\"");
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/dicomweb/studies", noBoundary)).StatusCode);

        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/dicomweb/studies/1.02.3", Multipart.Related(dicom))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/dicomweb/studies", Multipart.Related([]))).StatusCode);

        var xml = new HttpRequestMessage(HttpMethod.Post, "/dicomweb/studies") { Content = Multipart.Related(dicom) };
        xml.Headers.Accept.ParseAdd("application/dicom+xml");
        Assert.Equal(HttpStatusCode.NotAcceptable, (await client.SendAsync(xml)).StatusCode);
    }

    [Fact]
    public async Task A_multipart_body_without_its_closing_delimiter_is_400_and_leaves_nothing_behind()
    {
        var client = await Client();
        var blobsBefore = BlobCount();
        var response = await client.PostAsync("/dicomweb/studies", Multipart.Related([(Multipart.Corpus("CT_small.dcm")[..5000], "application/dicom")], close: false));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(blobsBefore, BlobCount());
        AssertNoTemporaryFiles();
    }

    [Fact]
    public async Task Ten_megabytes_of_part_headers_are_refused_with_400()
    {
        var client = await Client();
        var huge = "--b\r\nContent-Type: application/dicom\r\nX-Padding: " + new string('x', 10 * 1024 * 1024) + "\r\n\r\nDICM\r\n--b--\r\n";
        var content = new StringContent(huge);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/related; type=\"application/dicom\"; boundary=b");

        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/dicomweb/studies", content)).StatusCode);
    }

    [Fact]
    public async Task Storing_needs_the_studies_write_scope()
    {
        var readOnly = await fixture.App.ClientForTenantAsync(Tenant, Domain.Tenants.Scopes.StudiesRead);
        Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.PostAsync("/dicomweb/studies", Multipart.Related(Multipart.Corpus("CT_small.dcm")))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.App.CreateClient().PostAsync("/dicomweb/studies", Multipart.Related(Multipart.Corpus("CT_small.dcm")))).StatusCode);
    }

    private int BlobCount() =>
        Directory.Exists(Path.Combine(fixture.App.BlobRoot, "objects"))
            ? Directory.GetFiles(Path.Combine(fixture.App.BlobRoot, "objects"), "*", SearchOption.AllDirectories).Length
            : 0;

    [Fact]
    public async Task A_part_whose_blob_cannot_be_written_fails_with_0110_and_names_nothing_while_the_others_are_stored()
    {
        var client = await Client();
        string obstacle;
        (byte[] Bytes, string Study, string Series, string Sop) blocked;
        do
        {
            // A regular file where the instance's fan-out folder goes: its blob's commit fails, as on a failing disk.
            blocked = SyntheticInstances.Create();
            var sha = Convert.ToHexStringLower(SHA256.HashData(blocked.Bytes));
            obstacle = Path.Combine(fixture.App.BlobRoot, "objects", sha[..2], sha[2..4]);
        }
        while (Directory.Exists(obstacle));

        var fine = SyntheticInstances.Create();
        Directory.CreateDirectory(Path.GetDirectoryName(obstacle)!);
        await File.WriteAllTextAsync(obstacle, "not a folder");
        try
        {
            var response = await client.PostAsync("/dicomweb/studies", Multipart.Related(blocked.Bytes, fine.Bytes));

            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var body = await Body(response);
            var failed = Assert.Single(Items(body, "00081198"));
            Assert.Equal(0x0110, failed.GetProperty("00081197").GetProperty("Value")[0].GetInt32());
            Assert.Equal(blocked.Sop, Value(failed, "00081155"));
            Assert.Equal(fine.Sop, Value(Assert.Single(Items(body, "00081199")), "00081155"));
            await using var session = fixture.App.Store.QuerySession(Tenant);
            Assert.Empty(await session.Events.FetchStreamAsync(Study.StreamId(Tenant, blocked.Study)));
            Assert.Single((await session.Events.FetchStreamAsync(Study.StreamId(Tenant, fine.Study))).Select(e => e.Data).OfType<InstanceStored>());
            AssertNoTemporaryFiles();
        }
        finally
        {
            File.Delete(obstacle);
        }

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(blocked.Bytes))).StatusCode);
    }

    private void AssertNoTemporaryFiles() => Assert.Empty(Directory.GetFiles(Path.Combine(fixture.App.BlobRoot, "tmp")));
}
