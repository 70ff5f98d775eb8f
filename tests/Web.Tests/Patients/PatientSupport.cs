using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Patients;

/// <summary>Real DICOM files for a given patient, sent over STOW-RS, and what the read paths answer about a study.</summary>
public static class PatientSupport
{
    public static byte[] Instance(string study, string series, string sop, string patientId, string patientName, string? issuer = null, string? birthDate = "19800101", string? sex = "F")
    {
        var file = DicomReader.Read(Multipart.Corpus("CT_small.dcm"));
        var d = file.Dataset;
        d.AddString(DicomTag.StudyInstanceUID, DicomVR.UI, study);
        d.AddString(DicomTag.SeriesInstanceUID, DicomVR.UI, series);
        d.AddString(DicomTag.SOPInstanceUID, DicomVR.UI, sop);
        d.AddString(DicomTags.PatientID, DicomVR.LO, patientId);
        d.AddString(DicomTags.PatientName, DicomVR.PN, patientName);
        if (issuer is null)
        {
            d.Remove(DicomTags.IssuerOfPatientID);
        }
        else
        {
            d.AddString(DicomTags.IssuerOfPatientID, DicomVR.LO, issuer);
        }

        Optional(d, DicomTags.PatientBirthDate, DicomVR.DA, birthDate);
        Optional(d, DicomTags.PatientSex, DicomVR.CS, sex);
        return DicomWriter.ToBytes(file);
    }

    private static void Optional(DicomDataset d, DicomTag tag, DicomVR vr, string? value)
    {
        if (value is null)
        {
            d.Remove(tag);
        }
        else
        {
            d.AddString(tag, vr, value);
        }
    }

    /// <summary>STOWs one study of <paramref name="instances"/> instances in one series (or two series when asked).</summary>
    public static async Task<(string Study, string[] Series, string[] Sops)> StowStudyAsync(
        HttpClient client, string patientId, string patientName, string? issuer = null, int series = 1, int instancesPerSeries = 1,
        Action<DicomDataset>? adjust = null)
    {
        var study = DicomUid.Generate();
        var seriesUids = Enumerable.Range(0, series).Select(_ => DicomUid.Generate()).ToArray();
        var sops = new List<string>();
        var parts = new List<byte[]>();
        foreach (var s in seriesUids)
        {
            for (var i = 0; i < instancesPerSeries; i++)
            {
                var sop = DicomUid.Generate();
                sops.Add(sop);
                var bytes = Instance(study, s, sop, patientId, patientName, issuer);
                if (adjust is not null)
                {
                    var file = DicomReader.Read(bytes);
                    adjust(file.Dataset);
                    bytes = DicomWriter.ToBytes(file);
                }

                parts.Add(bytes);
            }
        }

        var response = await client.PostAsync("/dicomweb/studies", Multipart.Related([.. parts]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (study, seriesUids, [.. sops]);
    }

    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string route, string json) =>
        await client.PostAsync("/o3-dpacs-wado/" + route, Json.Body(json));

    public static async Task<JsonElement> OkJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>QIDO study-level answer for a study: its PatientID and PatientName.</summary>
    public static async Task<string[]> QidoStudiesOfAsync(HttpClient client, string patientId)
    {
        var response = await client.GetAsync($"/dicomweb/studies?PatientID={Uri.EscapeDataString(patientId)}");
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return [];
        }

        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return [.. body.EnumerateArray().Select(s => s.GetProperty("0020000D").GetProperty("Value")[0].GetString()!).Order()];
    }

    /// <summary>Everything a client reads about a study, as text, to compare snapshots: QIDO study/series/instances, WADO-RS metadata, studyInstances.</summary>
    public static async Task<string> SnapshotAsync(HttpClient client, string study)
    {
        var parts = new List<string>();
        foreach (var url in new[]
        {
            $"/dicomweb/studies?StudyInstanceUID={study}&includefield=all",
            $"/dicomweb/studies/{study}/series?includefield=all",
            $"/dicomweb/studies/{study}/instances?includefield=all",
            $"/dicomweb/studies/{study}/metadata",
            $"/o3-dpacs-wado/studyInstances?studyUid={study}",
        })
        {
            var response = await client.GetAsync(url);
            var text = await response.Content.ReadAsStringAsync();
            parts.Add($"{url} {(int)response.StatusCode} {Canonical(text)}");
        }

        return string.Join("\n", parts);
    }

    private static string Canonical(string json)
    {
        if (json.Length == 0)
        {
            return "";
        }

        static System.Text.Json.Nodes.JsonNode? Sort(System.Text.Json.Nodes.JsonNode? node) => node switch
        {
            System.Text.Json.Nodes.JsonObject o => new System.Text.Json.Nodes.JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => KeyValuePair.Create(p.Key, Sort(p.Value?.DeepClone())))),
            System.Text.Json.Nodes.JsonArray a => new System.Text.Json.Nodes.JsonArray([.. a.Select(x => Sort(x?.DeepClone()))]),
            _ => node?.DeepClone(),
        };
        return Sort(System.Text.Json.Nodes.JsonNode.Parse(json))!.ToJsonString();
    }

    /// <summary>The study's WADO-RS metadata: PatientID of every instance.</summary>
    public static async Task<string?[]> MetadataPatientIdsAsync(HttpClient client, string study)
    {
        var response = await client.GetAsync($"/dicomweb/studies/{study}/metadata");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return [.. body.EnumerateArray().Select(i => Qido.QidoSupport.Value(i, "00100020"))];
    }

    /// <summary>The study's instances retrieved over WADO-RS, each parsed by DCMTK's dcmdump: (PatientID, PatientName, IssuerOfPatientID) per file.</summary>
    public static async Task<List<(string? Id, string? Name, string? Issuer)>> WadoPatientsByDcmdumpAsync(HttpClient client, string study)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/dicomweb/studies/{study}");
        request.Headers.TryAddWithoutValidation("Accept", "multipart/related; type=\"application/dicom\"; transfer-syntax=*");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = new List<(string?, string?, string?)>();
        foreach (var bytes in await Ingestion.CorpusRoundTripTests.PartsAsync(response))
        {
            result.Add(Dcmdump(bytes));
        }

        return result;
    }

    public static (string? Id, string? Name, string? Issuer) Dcmdump(byte[] bytes)
    {
        var path = Path.Combine(Path.GetTempPath(), $"patient-{Guid.NewGuid():N}.dcm");
        File.WriteAllBytes(path, bytes);
        try
        {
            using var process = Process.Start(new ProcessStartInfo("dcmdump", ["-q", "+P", "0010,0020", "+P", "0010,0010", "+P", "0010,0021", path])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = process.StandardOutput.ReadToEnd();
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"dcmdump failed: {errors}");
            return (Value(output, "(0010,0020)"), Value(output, "(0010,0010)"), Value(output, "(0010,0021)"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string? Value(string dump, string tag)
    {
        var line = dump.Split('\n').FirstOrDefault(l => l.StartsWith(tag, StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }

        var open = line.IndexOf('[');
        var close = line.IndexOf(']', open + 1);
        return open < 0 || close < 0 ? null : line[(open + 1)..close];
    }

    public static Task<long> EventCountAsync(string connectionString) => Support.EventLog.CountAsync(connectionString);
}
