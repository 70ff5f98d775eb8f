using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Xml.Linq;
using EventSourced.Web.Tests.Clients;
using EventSourced.Web.Tests.Support;
using Microsoft.AspNetCore.WebUtilities;

namespace EventSourced.Web.Tests.Retrieval;

/// <summary>The service with a browser origin configured (CORS) and default matching settings.</summary>
public sealed class ViewerFixture : ServiceFixture
{
    public const string Origin = "http://viewer.example:3000";

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Cors:Origins"] = Origin };
}

/// <summary>
/// WADO-RS as a viewer uses it: frames, bulk data, Accept negotiation, XML metadata, PNG rendering, name matching,
/// CORS and long multipart boundaries. Pixel bytes are checked against pydicom's reading of the stored files.
/// </summary>
public sealed class ViewerWadoTests(ViewerFixture fixture) : IClassFixture<ViewerFixture>
{
    private const string Tenant = "viewer-wado";
    private const string AsStored = "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*";

    private async Task<(HttpClient Client, string Url, string Sop)> StoredAsync(string file)
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var response = await client.PostAsync("/dicomweb/studies", Multipart.Related(Multipart.Corpus(file)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var item = body.GetProperty("00081199").GetProperty("Value")[0];
        var url = item.GetProperty("00081190").GetProperty("Value")[0].GetString()!;
        return (client, new Uri(url).PathAndQuery, item.GetProperty("00081155").GetProperty("Value")[0].GetString()!);
    }

    private static async Task<List<(string ContentType, byte[] Body)>> PartsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var boundary = HeaderUtilities(response);
        var reader = new MultipartReader(boundary, await response.Content.ReadAsStreamAsync());
        var parts = new List<(string, byte[])>();
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            var bytes = new MemoryStream();
            await section.Body.CopyToAsync(bytes);
            parts.Add((section.ContentType ?? "", bytes.ToArray()));
        }

        return parts;
    }

    private static string HeaderUtilities(HttpResponseMessage response) =>
        response.Content.Headers.ContentType!.Parameters.Single(p => p.Name == "boundary").Value!.Trim('"');

    private static Task<HttpResponseMessage> GetAsync(HttpClient client, string url, string? accept)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        return client.SendAsync(request);
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Theory]
    [InlineData("CT_small.dcm", null)]
    [InlineData("MR_small_bigendian.dcm", null)]
    [InlineData("rtdose.dcm", null)]
    [InlineData("SC_rgb_jpeg_dcmtk.dcm", AsStored)]
    [InlineData("SC_rgb_rle_2frame.dcm", AsStored)]
    public async Task Every_frame_is_the_frame_pydicom_reads(string file, string? accept)
    {
        var path = Path.Combine(Multipart.CorpusFolder, file);
        var expected = (await ClientTools.FrameHashesAsync([path])).Single().Value;
        var (client, url, _) = await StoredAsync(file);
        var list = string.Join(',', Enumerable.Range(1, expected.Length));
        var parts = await PartsAsync(await GetAsync(client, $"{url}/frames/{list}", accept));
        Assert.Equal(expected, parts.Select(p => Sha(p.Body)));
        Assert.All(parts, p => Assert.Contains("transfer-syntax=", p.ContentType));
    }

    [Fact]
    public async Task Frame_numbers_out_of_range_are_404_and_malformed_ones_400()
    {
        var (client, url, _) = await StoredAsync("CT_small.dcm");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{url}/frames/2")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{url}/frames/1,2")).StatusCode);
        foreach (var bad in new[] { "0", "-1", "a", "1,,2", "1.5", "99999999999" })
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"{url}/frames/{bad}")).StatusCode);
        }
    }

    [Fact]
    public async Task A_compressed_frame_is_406_unless_its_syntax_or_any_syntax_is_accepted()
    {
        var (client, url, _) = await StoredAsync("SC_rgb_jpeg_dcmtk.dcm");
        var refused = await GetAsync(client, $"{url}/frames/1", "multipart/related; type=\"application/octet-stream\"");
        Assert.Equal(HttpStatusCode.NotAcceptable, refused.StatusCode);
        Assert.Contains("no transcoder", await refused.Content.ReadAsStringAsync());
        var jpeg = await GetAsync(client, $"{url}/frames/1", "multipart/related; type=\"image/jpeg\"");
        Assert.Equal("image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50", Assert.Single(await PartsAsync(jpeg)).ContentType);
        var native = await StoredAsync("CT_small.dcm");
        Assert.Equal(HttpStatusCode.NotAcceptable, (await GetAsync(native.Client, $"{native.Url}/frames/1", "multipart/related; type=\"image/jpeg\"")).StatusCode);
        var explicitLe = await GetAsync(native.Client, $"{native.Url}/frames/1", "multipart/related; type=\"application/octet-stream\"; transfer-syntax=1.2.840.10008.1.2.1");
        Assert.Equal("application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1", Assert.Single(await PartsAsync(explicitLe)).ContentType);
    }

    [Fact]
    public async Task Metadata_refers_to_pixel_data_by_a_BulkDataURI_that_serves_it()
    {
        var (client, url, sop) = await StoredAsync("CT_small.dcm");
        var metadata = JsonDocument.Parse(await client.GetStringAsync($"{url}/metadata")).RootElement[0];
        var uri = metadata.GetProperty("7FE00010").GetProperty("BulkDataURI").GetString()!;
        Assert.Equal("1.2.840.10008.1.2.1", metadata.GetProperty("00083002").GetProperty("Value")[0].GetString());
        var part = Assert.Single(await PartsAsync(await client.GetAsync(new Uri(uri).PathAndQuery)));
        var expected = (await ClientTools.FrameHashesAsync([Path.Combine(Multipart.CorpusFolder, "CT_small.dcm")]))[sop];
        Assert.Equal(expected[0], Sha(part.Body));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{url}/bulkdata/00091234")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"{url}/bulkdata/00540016/1")).StatusCode);
    }

    [Fact]
    public async Task Metadata_and_QIDO_answer_Native_DICOM_Model_XML_when_asked()
    {
        var (client, url, sop) = await StoredAsync("CT_small.dcm");
        const string xml = "multipart/related; type=\"application/dicom+xml\"";
        var part = Assert.Single(await PartsAsync(await GetAsync(client, $"{url}/metadata", xml)));
        XNamespace ns = "http://dicom.nema.org/PS3.19/models/NativeDICOM";
        var model = XDocument.Parse(System.Text.Encoding.UTF8.GetString(part.Body)).Root!;
        Assert.Equal(ns + "NativeDicomModel", model.Name);
        var name = model.Elements(ns + "DicomAttribute").Single(a => (string?)a.Attribute("keyword") == "PatientName");
        Assert.Equal("CompressedSamples", name.Descendants(ns + "FamilyName").Single().Value);
        Assert.NotNull(model.Elements(ns + "DicomAttribute").Single(a => (string?)a.Attribute("tag") == "7FE00010").Element(ns + "BulkData")?.Attribute("uri"));

        var study = url.Split('/')[3];
        var qido = await PartsAsync(await GetAsync(client, $"/dicomweb/studies/{study}/instances", xml));
        var found = XDocument.Parse(System.Text.Encoding.UTF8.GetString(Assert.Single(qido).Body)).Root!;
        Assert.Equal(sop, found.Elements(ns + "DicomAttribute").Single(a => (string?)a.Attribute("tag") == "00080018").Element(ns + "Value")!.Value);
        Assert.Equal(HttpStatusCode.NotAcceptable, (await GetAsync(client, $"/dicomweb/studies/{study}/instances", "text/html")).StatusCode);
    }

    /// <summary>DCMTK's dcm2xml (Native DICOM Model) of the same file is the oracle: same attributes, VRs, keywords and values.</summary>
    [Theory]
    [InlineData("CT_small.dcm")]
    [InlineData("rtplan.dcm")]
    public async Task The_XML_metadata_says_what_DCMTKs_dcm2xml_says(string file)
    {
        var (client, url, _) = await StoredAsync(file);
        var ours = XDocument.Parse(System.Text.Encoding.UTF8.GetString(
            Assert.Single(await PartsAsync(await GetAsync(client, $"{url}/metadata", "multipart/related; type=\"application/dicom+xml\""))).Body)).Root!;
        var dcmtk = XDocument.Parse(await ClientTools.RunAsync("dcm2xml", ["--native-format", "+U8", Path.Combine(Multipart.CorpusFolder, file)])).Root!;
        Assert.Equal(Lines(dcmtk), Lines(ours));
        var keywords = dcmtk.Descendants().Where(e => e.Name.LocalName == "DicomAttribute" && ((string?)e.Attribute("keyword"))?.Length > 0)
            .Select(e => ((string)e.Attribute("tag")!, (string)e.Attribute("keyword")!)).Distinct().ToList();
        var ourKeywords = ours.Descendants().Where(e => e.Name.LocalName == "DicomAttribute")
            .GroupBy(e => (string)e.Attribute("tag")!).ToDictionary(g => g.Key, g => (string?)g.First().Attribute("keyword"));
        // Standard attributes only (private tags carry their creator, compared above).
        Assert.All(keywords.Where(k => Convert.ToInt32(k.Item1[..4], 16) % 2 == 0 && !k.Item1.StartsWith("0002", StringComparison.Ordinal) && k.Item1 != "00080005"), k => Assert.Equal(k.Item2, ourKeywords[k.Item1]));
    }

    /// <summary>
    /// One line per attribute at every depth: path, tag, VR, private creator, values (numbers parsed, binary left out).
    /// Keywords are compared where DCMTK's dictionary has one (it lacks some retired attributes ours names).
    /// </summary>
    private static List<string> Lines(XElement dataset, string path = "")
    {
        var lines = new List<string>();
        foreach (var attribute in dataset.Elements().Where(e => e.Name.LocalName == "DicomAttribute"))
        {
            var tag = (string)attribute.Attribute("tag")!;
            var vr = (string)attribute.Attribute("vr")!;
            // File meta, our Available Transfer Syntax, and the character set (+U8 makes dcm2xml say ISO_IR 192) are not compared.
            if (tag.StartsWith("0002", StringComparison.Ordinal) || tag is "00083002" or "00080005" || vr is "OB" or "OW" or "OF" or "OD" or "OL" or "OV" or "UN")
            {
                continue;
            }

            var values = attribute.Elements().Where(e => e.Name.LocalName is "Value" or "PersonName").Select(v => v.Name.LocalName == "PersonName"
                ? string.Join("=", v.Elements().Select(g => string.Join("^", g.Elements().Select(c => $"{c.Name.LocalName}:{c.Value}"))))
                : vr is "FL" && float.TryParse(v.Value, System.Globalization.CultureInfo.InvariantCulture, out var single) ? single.ToString("R", System.Globalization.CultureInfo.InvariantCulture)
                : vr is "DS" or "IS" or "FD" && double.TryParse(v.Value, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number.ToString("R", System.Globalization.CultureInfo.InvariantCulture)
                : v.Value.Trim());
            lines.Add($"{path}{tag} {vr} {(string?)attribute.Attribute("privateCreator")} [{string.Join("|", values)}]");
            var item = 0;
            foreach (var child in attribute.Elements().Where(e => e.Name.LocalName == "Item"))
            {
                lines.AddRange(Lines(child, $"{path}{tag}/{++item}/"));
            }
        }

        return lines;
    }

    [Fact]
    public async Task Rendered_answers_a_lossless_PNG_that_Pillow_reads_at_the_image_size()
    {
        var (client, url, _) = await StoredAsync("CT_small.dcm");
        var response = await GetAsync(client, $"{url}/rendered", "image/png");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        var png = Path.GetTempFileName();
        await File.WriteAllBytesAsync(png, await response.Content.ReadAsByteArrayAsync());
        try
        {
            // Pillow decodes it (CRCs and zlib checked), and its pixels are our renderer's, unchanged.
            var pillow = (await ClientTools.RunAsync(ClientTools.Python, ["-c",
                "import sys, hashlib; from PIL import Image; im = Image.open(sys.argv[1]); im.load(); print(im.mode, im.size[0], im.size[1], hashlib.sha256(im.tobytes()).hexdigest())", png])).Trim().Split(' ');
            Assert.Equal(["L", "128", "128"], pillow[..3]);
            var dataset = Dicom.DicomReader.Read(Multipart.Corpus("CT_small.dcm")).Dataset;
            Assert.Equal(Sha(Dicom.Imaging.DicomRenderer.Render(dataset).Pixels), pillow[3]);
        }
        finally
        {
            File.Delete(png);
        }
    }

    [Fact]
    public async Task PatientName_matches_ignoring_case_by_default()
    {
        var (client, url, _) = await StoredAsync("CT_small.dcm"); // PatientName CompressedSamples^CT1
        var study = url.Split('/')[3];
        var found = await client.GetAsync($"/dicomweb/studies?PatientName=compressedsamples^c*&StudyInstanceUID={study}");
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Single(JsonDocument.Parse(await found.Content.ReadAsStringAsync()).RootElement.EnumerateArray());
        var exact = await client.GetAsync($"/dicomweb/studies?PatientName=COMPRESSEDSAMPLES^CT1&StudyInstanceUID={study}");
        Assert.Equal(HttpStatusCode.OK, exact.StatusCode);
        var none = await client.GetAsync($"/dicomweb/studies?PatientName=compressedsamples^x*&StudyInstanceUID={study}");
        Assert.Equal(HttpStatusCode.NoContent, none.StatusCode);
    }

    [Fact]
    public async Task A_browser_preflight_is_answered_without_credentials_and_the_answer_exposes_what_viewers_read()
    {
        using var anonymous = fixture.App.CreateClient();
        var preflight = new HttpRequestMessage(HttpMethod.Options, "/dicomweb/studies");
        preflight.Headers.Add("Origin", ViewerFixture.Origin);
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,accept");
        var answer = await anonymous.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal(ViewerFixture.Origin, answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("authorization", string.Join(',', answer.Headers.GetValues("Access-Control-Allow-Headers")).ToLowerInvariant());

        var stranger = new HttpRequestMessage(HttpMethod.Options, "/dicomweb/studies");
        stranger.Headers.Add("Origin", "http://elsewhere.example");
        stranger.Headers.Add("Access-Control-Request-Method", "GET");
        var refused = await anonymous.SendAsync(stranger);
        Assert.NotEqual(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));

        var (client, url, _) = await StoredAsync("CT_small.dcm");
        var get = new HttpRequestMessage(HttpMethod.Get, $"{url}/metadata");
        get.Headers.Add("Origin", ViewerFixture.Origin);
        var actual = await client.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, actual.StatusCode);
        Assert.Equal(ViewerFixture.Origin, actual.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var exposed = string.Join(',', actual.Headers.GetValues("Access-Control-Expose-Headers")).ToLowerInvariant();
        Assert.All(new[] { "content-type", "content-length", "content-location", "warning" }, h => Assert.Contains(h, exposed));
    }

    [Theory]
    [InlineData(73, false)]
    [InlineData(73, true)]
    [InlineData(300, false)]
    public async Task STOW_takes_a_boundary_longer_than_RFC_2046s_70_characters(int length, bool quoted)
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var (instance, _, _, _) = SyntheticInstances.Create();
        var boundary = string.Concat(Enumerable.Repeat("0123456789abcdef-", 20))[..length];
        var content = Multipart.Related([(instance, "application/dicom")], boundary);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/related; type=\"application/dicom\"; boundary={(quoted ? $"\"{boundary}\"" : boundary)}");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", content)).StatusCode);
    }
}

/// <summary>The service with <c>Qido:CaseSensitivePersonNames</c> set.</summary>
public sealed class StrictNamesFixture : ServiceFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Qido:CaseSensitivePersonNames"] = "true" };
}

public sealed class StrictNameMatchingTests(StrictNamesFixture fixture) : IClassFixture<StrictNamesFixture>
{
    [Fact]
    public async Task With_the_strict_setting_PatientName_matches_only_in_its_own_case()
    {
        var client = await fixture.App.ClientForTenantAsync("strict-names");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(Multipart.Corpus("CT_small.dcm")))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/dicomweb/studies?PatientName=compressedsamples^c*")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/dicomweb/studies?PatientName=CompressedSamples^C*")).StatusCode);
    }
}
