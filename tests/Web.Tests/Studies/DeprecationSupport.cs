using System.Net;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Archive;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Studies;

/// <summary>A study of real DICOM files (pydicom's CT_small re-identified) uploaded through document d, so every read model holds it.</summary>
public sealed record UploadedStudy(string PatientId, string Study, IReadOnlyList<ArchiveSupport.Instance> Instances)
{
    public const string Project = "proj";
    public const string Archive = "arch";

    public IEnumerable<string> SeriesUids => Instances.Select(i => i.Series).Distinct();

    public static async Task<UploadedStudy> UploadAsync(
        HttpClient client, int series, int perSeries, string? accessionNumber = null, Func<int, string?>? containerOfSeries = null)
    {
        var patient = "P-" + Guid.NewGuid().ToString("N")[..8];
        var study = DicomUid.Generate();
        var instances = new List<ArchiveSupport.Instance>();
        for (var s = 0; s < series; s++)
        {
            var seriesUid = DicomUid.Generate();
            for (var i = 0; i < perSeries; i++)
            {
                var attributes = new List<(string, DicomVR, string?)>
                {
                    ("AccessionNumber", DicomVR.SH, accessionNumber ?? "ACC-" + Guid.NewGuid().ToString("N")[..8]),
                    ("InstanceNumber", DicomVR.IS, (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                };
                if (containerOfSeries?.Invoke(s) is { } container)
                {
                    attributes.Add(("ContainerIdentifier", DicomVR.LO, container));
                }

                var instance = ArchiveSupport.Create(patient, study, seriesUid, attributes: [.. attributes]);
                await client.UploadOkAsync(instance.Bytes, Project, Archive);
                instances.Add(instance);
            }
        }

        return new UploadedStudy(patient, study, instances);
    }

    /// <summary>Every read path that can show a series' instance, each as "path → true when the instance/series is there".</summary>
    public async Task<Dictionary<string, bool>> ReadPathsAsync(HttpClient client, ArchiveSupport.Instance instance)
    {
        var (st, se, sop) = (instance.Study, instance.Series, instance.Sop);
        var d = new[] { ("Project", Project), ("Archive", Archive), ("PatientID", PatientId), ("StudyInstanceUID", st) };
        var dSeries = d.Append(("SeriesInstanceUID", se)).ToArray();
        var result = new Dictionary<string, bool>
        {
            ["qido series"] = await ContainsAsync(client, $"/dicomweb/studies/{st}/series", se),
            ["qido instances"] = await ContainsAsync(client, $"/dicomweb/instances?StudyInstanceUID={st}", sop),
            ["wado instance"] = await OkAsync(client, $"/dicomweb/studies/{st}/series/{se}/instances/{sop}", "multipart/related; type=\"application/dicom\""),
            ["wado series metadata"] = await OkAsync(client, $"/dicomweb/studies/{st}/series/{se}/metadata"),
            ["wado instance metadata"] = await OkAsync(client, $"/dicomweb/studies/{st}/series/{se}/instances/{sop}/metadata"),
            ["wado rendered"] = await OkAsync(client, $"/dicomweb/studies/{st}/series/{se}/instances/{sop}/rendered", "image/jpeg"),
            ["wado frame rendered"] = await OkAsync(client, $"/dicomweb/studies/{st}/series/{se}/instances/{sop}/frames/1/rendered", "image/jpeg"),
            ["c exams series"] = await ContainsAsync(client, $"/exams/studies/{st}/series?PatientId={Uri.EscapeDataString(PatientId)}", se),
            ["c exams instance"] = await OkAsync(client, $"/exams/studies/{st}/series/{se}/instance/{sop}?fileType=application/dicom"),
            ["d series get"] = await OkAsync(client, "/api/v1/series/get/" + ArchiveSupport.Query(dSeries)),
            ["d series list"] = await ContainsAsync(client, "/api/v1/patient/study/series/list/" + ArchiveSupport.Query(d), se),
            ["d series zip"] = await OkAsync(client, "/api/v1/dicom/get/" + ArchiveSupport.Query(dSeries)),
            ["e studyInstances"] = await ContainsAsync(client, $"/o3-dpacs-wado/studyInstances?studyUid={st}", sop),
        };
        return result;
    }

    /// <summary>Study-level read paths: QIDO study, document d study/patient, document e count (of this study's accession number).</summary>
    public async Task<Dictionary<string, bool>> StudyPathsAsync(HttpClient client)
    {
        var d = new[] { ("Project", Project), ("Archive", Archive), ("PatientID", PatientId) };
        return new Dictionary<string, bool>
        {
            ["qido study"] = await ContainsAsync(client, $"/dicomweb/studies?StudyInstanceUID={Study}", Study),
            ["wado study metadata"] = await OkAsync(client, $"/dicomweb/studies/{Study}/metadata"),
            ["d study get"] = await OkAsync(client, "/api/v1/study/get/" + ArchiveSupport.Query([.. d, ("StudyInstanceUID", Study)])),
            ["d patient studies"] = await ContainsAsync(client, "/api/v1/patient/studies/list/" + ArchiveSupport.Query(d), Study),
            ["e studyInstances"] = await OkAsync(client, $"/o3-dpacs-wado/studyInstances?studyUid={Study}"),
        };
    }

    private static async Task<bool> OkAsync(HttpClient client, string url, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound or HttpStatusCode.NoContent,
            $"{url} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response.StatusCode == HttpStatusCode.OK;
    }

    private static async Task<bool> ContainsAsync(HttpClient client, string url, string uid)
    {
        using var response = await client.GetAsync(url);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound or HttpStatusCode.NoContent,
            $"{url} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response.StatusCode == HttpStatusCode.OK && (await response.Content.ReadAsStringAsync()).Contains(uid, StringComparison.Ordinal);
    }

    public static async Task<int> CountAsync(HttpClient client)
    {
        var response = await client.GetAsync("/o3-dpacs-wado/studies/count");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("study_count").GetInt32();
    }
}
