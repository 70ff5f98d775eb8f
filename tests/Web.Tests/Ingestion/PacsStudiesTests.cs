using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Ingestion;

/// <summary>Document e: "Count studies API" and "Get study instance metadata API".</summary>
public sealed class PacsStudiesTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private async Task<int> CountAsync(HttpClient client, string query)
    {
        var response = await client.GetAsync("/o3-dpacs-wado/studies/count" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("study_count").GetInt32();
    }

    [Fact]
    public async Task Studies_are_counted_by_received_date_size_AE_title_and_station()
    {
        const string tenant = "count-tests";
        var client = await fixture.App.ClientForTenantAsync(tenant);
        // Study A: 2 instances of 6 KB from FEED1/MOD1; B: 1 of 20 KB from UPLOAD1/MOD2; C: 1 of 1 KB from FEED2/PACS1.
        foreach (var (study, sops, ae, station, kb) in new[] { ("1.2.9.1", 2, "FEED1", "MOD1", 6), ("1.2.9.2", 1, "UPLOAD1", "MOD2", 20), ("1.2.9.3", 1, "FEED2", "PACS1", 1) })
        {
            for (var i = 1; i <= sops; i++)
            {
                await fixture.App.StoreAsync(tenant, QidoSupport.FromDataset(
                    QidoSupport.Synthetic(study, study + ".1", $"{study}.1.{i}", ("Modality", DicomVR.CS, "CT")), ae, station, kb * 1024));
            }
        }

        var today = DateTime.UtcNow.ToString("yyyyMMdd");
        var tomorrow = DateTime.UtcNow.AddDays(1).ToString("yyyyMMdd");
        Assert.Equal(3, await CountAsync(client, ""));
        Assert.Equal(3, await CountAsync(client, $"?receivedAt={today}-{tomorrow}"));
        Assert.Equal(0, await CountAsync(client, $"?receivedAt={tomorrow}-"));
        Assert.Equal(0, await CountAsync(client, $"?receivedAt=-{today}")); // to is exclusive
        Assert.Equal(2, await CountAsync(client, "?studySize=0-12")); // A is 12 KB, C 1 KB; inclusive
        Assert.Equal(1, await CountAsync(client, "?studySize=13-"));
        Assert.Equal(2, await CountAsync(client, "?aet=FEED1&aet=FEED2"));
        Assert.Equal(2, await CountAsync(client, "?excludeAet=UPLOAD1"));
        Assert.Equal(1, await CountAsync(client, "?stationName=MOD2"));
        Assert.Equal(2, await CountAsync(client, "?excludeStationName=PACS1"));
        Assert.Equal(2, await CountAsync(client, "?excludeStation=PACS1")); // the document's example spelling
        Assert.Equal(1, await CountAsync(client, "?aet=FEED1&aet=FEED2&studySize=5-"));

        // Another tenant's studies are not counted.
        Assert.Equal(0, await CountAsync(await fixture.App.ClientForTenantAsync("count-tests-other"), ""));
    }

    [Theory]
    [InlineData("?receivedAt=2021-01-01")]
    [InlineData("?receivedAt=20210101")]
    [InlineData("?receivedAt=-")]
    [InlineData("?studySize=ten-")]
    public async Task Malformed_ranges_are_400(string query)
    {
        var client = await fixture.App.ClientForTenantAsync("count-tests");
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/o3-dpacs-wado/studies/count" + query)).StatusCode);
    }

    [Fact]
    public async Task Study_instances_lists_the_documents_attributes_of_each_instance()
    {
        var client = await fixture.App.ClientForTenantAsync("study-instances-tests");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(Multipart.Corpus("CT_small.dcm")))).StatusCode);
        var file = DicomReader.Read(Multipart.Corpus("CT_small.dcm"));
        var study = file.Dataset.GetString(DicomTag.StudyInstanceUID)!;

        var response = await client.GetAsync($"/o3-dpacs-wado/studyInstances?studyUid={study}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var instance = Assert.Single((await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray());
        string[] documented =
        [
            "acquisitionTime", "bodyPartExamined", "codeMeaning", "contentDate", "contentTime", "imageLaterality", "imageType",
            "laterality", "modality", "numberOfFrames", "protocolName", "seriesDescription", "seriesInstanceUid", "seriesNumber",
            "sopClassUid", "sopInstanceUid", "studyDescription", "studyInstanceUid", "viewPosition",
        ];
        Assert.Equal(documented.Order(), instance.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(file.Dataset.GetString(DicomTag.SOPInstanceUID), instance.GetProperty("sopInstanceUid").GetString());
        Assert.Equal("CT", instance.GetProperty("modality").GetString());
        Assert.Equal(string.Join('\\', file.Dataset.GetStrings(new DicomTag(0x0008, 0x0008))), instance.GetProperty("imageType").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/o3-dpacs-wado/studyInstances?studyUid=1.2.3.4")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/o3-dpacs-wado/studyInstances")).StatusCode);
    }
}
