using System.Diagnostics;
using System.Net;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Ingestion;

/// <summary>WADO-RS /rendered and /thumbnail over HTTP; every JPEG is decoded by libjpeg-turbo's djpeg, not by us.</summary>
public sealed class RenderedTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "rendered-tests";

    private async Task<(HttpClient Client, string InstanceUrl)> StoredAsync(string file)
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var response = await client.PostAsync("/dicomweb/studies", Multipart.Related(Multipart.Corpus(file)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var url = body.GetProperty("00081199").GetProperty("Value")[0].GetProperty("00081190").GetProperty("Value")[0].GetString()!;
        return (client, new Uri(url).PathAndQuery);
    }

    /// <summary>djpeg's reading of the JPEG: PNM type (P5 grey, P6 colour), width, height.</summary>
    private static async Task<(string Type, int Width, int Height)> DecodeAsync(byte[] jpeg)
    {
        var path = Path.GetTempFileName();
        await File.WriteAllBytesAsync(path, jpeg);
        try
        {
            using var process = Process.Start(new ProcessStartInfo("djpeg", ["-pnm", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var pnm = new MemoryStream();
            await process.StandardOutput.BaseStream.CopyToAsync(pnm);
            var error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0 && error.Length == 0, $"djpeg: {error}");
            var header = System.Text.Encoding.ASCII.GetString(pnm.ToArray(), 0, 32).Split((char[])['\n', ' '], StringSplitOptions.RemoveEmptyEntries);
            return (header[0], int.Parse(header[1]), int.Parse(header[2]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<byte[]> JpegAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/jpeg", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsByteArrayAsync();
    }

    [Theory]
    [InlineData("CT_small.dcm", "P5", 128, 128)]
    [InlineData("MR_small_bigendian.dcm", "P5", 64, 64)]
    [InlineData("SC_rgb_dcmtk_+eb+cy+np.dcm", "P6", 100, 100)]
    public async Task An_uncompressed_instance_renders_to_a_JPEG_of_its_size(string file, string type, int width, int height)
    {
        var (client, url) = await StoredAsync(file);
        Assert.Equal((type, width, height), await DecodeAsync(await JpegAsync(await client.GetAsync(url + "/rendered"))));
    }

    [Fact]
    public async Task The_thumbnail_fits_its_default_or_requested_viewport_and_never_enlarges()
    {
        var (client, url) = await StoredAsync("CT_small.dcm");
        Assert.Equal(("P5", 128, 128), await DecodeAsync(await JpegAsync(await client.GetAsync(url + "/thumbnail"))));
        Assert.Equal(("P5", 32, 32), await DecodeAsync(await JpegAsync(await client.GetAsync(url + "/thumbnail?viewport=32,48"))));
        Assert.Equal(("P5", 64, 64), await DecodeAsync(await JpegAsync(await client.GetAsync(url + "/frames/1/rendered?viewport=64,64&window=40,400&quality=50"))));
    }

    [Fact]
    public async Task A_window_changes_the_picture()
    {
        var (client, url) = await StoredAsync("CT_small.dcm");
        var narrow = await JpegAsync(await client.GetAsync(url + "/rendered?window=40,80"));
        var wide = await JpegAsync(await client.GetAsync(url + "/rendered?window=40,4000"));
        Assert.NotEqual(narrow, wide);
    }

    [Fact]
    public async Task A_JPEG_Baseline_instance_is_passed_through_as_stored()
    {
        var (client, url) = await StoredAsync("SC_rgb_jpeg_dcmtk.dcm");
        var served = await JpegAsync(await client.GetAsync(url + "/rendered"));
        var expected = EventSourced.Dicom.Imaging.JpegPassThrough.GetFrame(EventSourced.Dicom.DicomReader.Read(Multipart.Corpus("SC_rgb_jpeg_dcmtk.dcm")), 0);
        Assert.Equal(expected, served);
        Assert.Equal("P6", (await DecodeAsync(served)).Type);
    }

    [Fact]
    public async Task What_cannot_be_rendered_gets_its_status()
    {
        var (client, url) = await StoredAsync("JPEG2000.dcm");
        Assert.Equal(HttpStatusCode.NotAcceptable, (await client.GetAsync(url + "/rendered")).StatusCode); // compressed, not decoded

        var (ct, ctUrl) = await StoredAsync("CT_small.dcm");
        Assert.Equal(HttpStatusCode.NotFound, (await ct.GetAsync(ctUrl + "/frames/2/rendered")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ct.GetAsync(ctUrl + "/frames/0/rendered")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ct.GetAsync(ctUrl + "/rendered?window=40")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ct.GetAsync(ctUrl + "/rendered?viewport=0,10")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ct.GetAsync(ctUrl + "/rendered?quality=101")).StatusCode);
        var gif = new HttpRequestMessage(HttpMethod.Get, ctUrl + "/rendered");
        gif.Headers.Accept.ParseAdd("image/gif");
        Assert.Equal(HttpStatusCode.NotAcceptable, (await ct.SendAsync(gif)).StatusCode);
        var png = new HttpRequestMessage(HttpMethod.Get, url + "/rendered");
        png.Headers.Accept.ParseAdd("image/png");
        Assert.Equal(HttpStatusCode.NotAcceptable, (await client.SendAsync(png)).StatusCode); // PNG needs decoded pixels
        Assert.Equal(HttpStatusCode.NotFound, (await ct.GetAsync(ctUrl.Replace("/instances/", "/instances/9") + "/rendered")).StatusCode);
    }
}

/// <summary>Document e, "Get instance preview API".</summary>
public sealed class PacsPreviewTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task The_preview_of_a_series_is_the_thumbnail_of_its_lowest_instance_number()
    {
        var client = await fixture.App.ClientForTenantAsync("preview-tests");
        var study = EventSourced.Dicom.DicomUid.Generate();
        var series = EventSourced.Dicom.DicomUid.Generate();
        var instances = new List<(byte[] Bytes, string Sop, int Number)>();
        foreach (var number in new[] { 7, 2, 5 })
        {
            var file = EventSourced.Dicom.DicomReader.Read(Multipart.Corpus("CT_small.dcm"));
            var sop = EventSourced.Dicom.DicomUid.Generate();
            file.Dataset.AddString(EventSourced.Dicom.DicomTag.StudyInstanceUID, EventSourced.Dicom.DicomVR.UI, study);
            file.Dataset.AddString(EventSourced.Dicom.DicomTag.SeriesInstanceUID, EventSourced.Dicom.DicomVR.UI, series);
            file.Dataset.AddString(EventSourced.Dicom.DicomTag.SOPInstanceUID, EventSourced.Dicom.DicomVR.UI, sop);
            file.Dataset.AddString(new EventSourced.Dicom.DicomTag(0x0020, 0x0013), EventSourced.Dicom.DicomVR.IS, number.ToString());
            // Distinct pictures: a different window centre per instance.
            file.Dataset.AddString(new EventSourced.Dicom.DicomTag(0x0028, 0x1050), EventSourced.Dicom.DicomVR.DS, (number * 100).ToString());
            file.Dataset.AddString(new EventSourced.Dicom.DicomTag(0x0028, 0x1051), EventSourced.Dicom.DicomVR.DS, "400");
            instances.Add((EventSourced.Dicom.DicomWriter.ToBytes(file), sop, number));
        }

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related([.. instances.Select(i => i.Bytes)]))).StatusCode);

        var lowest = instances.Single(i => i.Number == 2).Sop;
        var bySeries = await client.GetAsync($"/o3-dpacs-wado/preview?seriesUID={series}");
        var byObject = await client.GetAsync($"/o3-dpacs-wado/preview?objectUID={lowest}");
        var other = await client.GetAsync($"/o3-dpacs-wado/preview?objectUID={instances.Single(i => i.Number == 7).Sop}");
        Assert.Equal("image/jpeg", bySeries.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await byObject.Content.ReadAsByteArrayAsync(), await bySeries.Content.ReadAsByteArrayAsync());
        Assert.NotEqual(await other.Content.ReadAsByteArrayAsync(), await bySeries.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Without_a_parameter_it_is_400_and_for_an_unknown_UID_404()
    {
        var client = await fixture.App.ClientForTenantAsync("preview-tests");
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/o3-dpacs-wado/preview")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/o3-dpacs-wado/preview?objectUID=1.2.3.4")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/o3-dpacs-wado/preview?seriesUID=1.2.3.4")).StatusCode);
    }
}
