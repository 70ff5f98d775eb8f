using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Ingestion;

/// <summary>Document c: <c>POST /exams</c> (multipart/form-data, field <c>file</c>) and <c>GET /uid</c>.</summary>
public sealed class ExamsUploadTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private Task<HttpClient> Client() => fixture.App.ClientForTenantAsync("exams-tests");

    private static MultipartFormDataContent Form(byte[] file, string field = "file")
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(file);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(part, field, "file.dcm");
        return form;
    }

    [Fact]
    public async Task Uploading_a_DICOM_file_returns_the_documents_array_with_the_STOW_data_set_and_it_can_be_retrieved()
    {
        var client = await Client();
        var (bytes, study, series, sop) = SyntheticInstances.Create();

        var response = await client.PostAsync("/exams", Form(bytes));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var item = Assert.Single(body.EnumerateArray()).GetProperty("00081199").GetProperty("Value")[0];
        Assert.Equal(sop, item.GetProperty("00081155").GetProperty("Value")[0].GetString());
        Assert.Equal("1.2.840.10008.5.1.4.1.1.2", item.GetProperty("00081150").GetProperty("Value")[0].GetString());
        var url = new Uri(item.GetProperty("00081190").GetProperty("Value")[0].GetString()!).PathAndQuery;
        Assert.Equal($"/dicomweb/studies/{study}/series/{series}/instances/{sop}", url);
        Assert.Equal(bytes, Assert.Single(await CorpusRoundTripTests.PartsAsync(await client.GetAsync(url))));
    }

    [Fact]
    public async Task A_non_DICOM_file_is_422()
    {
        var client = await Client();
        var response = await client.PostAsync("/exams", Form("%PDF-1.7 not an image"u8.ToArray()));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
    }

    [Fact]
    public async Task No_file_field_is_400_and_a_non_multipart_body_415()
    {
        var client = await Client();
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/exams", Form(SyntheticInstances.Create().Bytes, field: "document"))).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PostAsync("/exams", new ByteArrayContent(SyntheticInstances.Create().Bytes))).StatusCode);
    }

    [Fact]
    public async Task Uid_generation_returns_a_valid_unique_UID()
    {
        var client = await Client();
        var uids = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            var body = await client.GetFromJsonAsync<JsonElement>("/uid");
            var uid = body.GetProperty("uid").GetString()!;
            Assert.True(DicomUid.IsValid(uid), uid);
            Assert.True(uids.Add(uid));
        }
    }
}

/// <summary>Document c: "Exams retrieval" and "Exam retrieval".</summary>
public sealed class ExamsQueryTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Studies_series_and_instances_of_a_patient_and_one_exam_as_DICOM_or_JPEG()
    {
        var client = await fixture.App.ClientForTenantAsync("exams-query-tests");
        var ct = Multipart.Corpus("CT_small.dcm");
        var mr = Multipart.Corpus("MR_small.dcm");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(ct, mr))).StatusCode);
        var file = DicomReader.Read(ct).Dataset;
        var (patient, study, series, sop) = (file.GetString(DicomTag.PatientID)!, file.GetString(DicomTag.StudyInstanceUID)!,
            file.GetString(DicomTag.SeriesInstanceUID)!, file.GetString(DicomTag.SOPInstanceUID)!);

        // The document spells the parameter three ways.
        foreach (var name in new[] { "PatientId", "patientId", "patientID" })
        {
            var studies = await client.GetFromJsonAsync<JsonElement>($"/exams/studies?{name}={Uri.EscapeDataString(patient)}");
            var only = Assert.Single(studies.EnumerateArray());
            Assert.Equal(study, only.GetProperty("0020000D").GetProperty("Value")[0].GetString());
        }

        var seriesList = await client.GetFromJsonAsync<JsonElement>($"/exams/studies/{study}/series?PatientId={Uri.EscapeDataString(patient)}");
        Assert.Equal(series, Assert.Single(seriesList.EnumerateArray()).GetProperty("0020000E").GetProperty("Value")[0].GetString());
        var instances = await client.GetFromJsonAsync<JsonElement>($"/exams/studies/{study}/series/{series}/instances?PatientId={Uri.EscapeDataString(patient)}");
        Assert.Equal(sop, Assert.Single(instances.EnumerateArray()).GetProperty("00080018").GetProperty("Value")[0].GetString());

        var none = await client.GetAsync("/exams/studies?PatientId=NOBODY");
        Assert.Equal(HttpStatusCode.OK, none.StatusCode);
        Assert.Empty((await none.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/exams/studies")).StatusCode);

        var url = $"/exams/studies/{study}/series/{series}/instance/{sop}";
        var dicom = await client.GetAsync(url + "?fileType=application/dicom");
        Assert.Equal("application/dicom", dicom.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ct, await dicom.Content.ReadAsByteArrayAsync());
        var jpeg = await client.GetAsync(url + "?fileType=image%2Fjpeg");
        Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType?.MediaType);
        Assert.Equal([0xFF, 0xD8], (await jpeg.Content.ReadAsByteArrayAsync())[..2]);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync(url + "?fileType=image/png")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/exams/studies/{study}/series/{series}/instance/1.2.3?fileType=application/dicom")).StatusCode);
    }
}
