using System.Diagnostics;
using System.Net;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Studies;

/// <summary>What a study should show on every read path: its patient, accession number, and series with their instances.</summary>
public sealed record ExpectedStudy(string PatientId, string PatientName, string? AccessionNumber, IReadOnlyDictionary<string, string[]> Series)
{
    /// <summary>Series document d does not list (a rejection note the service generated is no document d upload).</summary>
    public IReadOnlySet<string> NotInArchive { get; init; } = new HashSet<string>();

    public IEnumerable<string> Sops => Series.Values.SelectMany(s => s);
}

/// <summary>
/// Real DICOM files (a CT of the test corpus, re-identified) sent over STOW-RS, and the read paths a client
/// has of a study (QIDO-RS, WADO-RS metadata, WADO-RS bytes as pydicom reads them, document e's
/// studyInstances, document d's series list), asserted against what a step should have produced.
/// </summary>
public static class SeriesMoveSupport
{
    public static Task<(string Study, string[] Series, string[] Sops)> StowAsync(
        HttpClient client, string patientId, string patientName, string accession, string description, int series = 1, int perSeries = 1) =>
        Patients.PatientSupport.StowStudyAsync(client, patientId, patientName, series: series, instancesPerSeries: perSeries, adjust: d =>
        {
            d.AddString(DicomTags.AccessionNumber, DicomVR.SH, accession);
            d.AddString(DicomTags.StudyDescription, DicomVR.LO, description);
        });

    public static ExpectedStudy Expect(string patientId, string patientName, string? accession, params (string Series, string[] Sops)[] series) =>
        new(patientId, patientName, accession, series.ToDictionary(s => s.Series, s => s.Sops));

    /// <summary>Every read path shows <paramref name="study"/> as <paramref name="expected"/> says; document d lists it under <paramref name="archivePatientId"/>.</summary>
    public static async Task AssertShowsAsync(HttpClient client, string study, ExpectedStudy expected, string archivePatientId)
    {
        var seriesOf = expected.Series.SelectMany(s => s.Value.Select(sop => (Sop: sop, Series: s.Key))).ToDictionary(x => x.Sop, x => x.Series);
        var sops = seriesOf.Keys.Order(StringComparer.Ordinal).ToArray();

        // QIDO-RS, study level: the patient, the accession number, the counts.
        var qido = Assert.Single(await JsonArrayAsync(client, $"/dicomweb/studies?StudyInstanceUID={study}&includefield=all"));
        Assert.Equal(expected.PatientId, qido.Value("00100020"));
        Assert.Equal(expected.PatientName, qido.Value("00100010"));
        Assert.Equal(expected.AccessionNumber, qido.Value("00080050"));
        Assert.Equal(expected.Series.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), qido.Value("00201206"));
        Assert.Equal(sops.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), qido.Value("00201208"));

        // Series and instance levels.
        var series = await JsonArrayAsync(client, $"/dicomweb/studies/{study}/series?includefield=all");
        Assert.Equal(expected.Series.Keys.Order(StringComparer.Ordinal), series.Select(s => s.Value("0020000E")!).Order(StringComparer.Ordinal));
        Assert.All(series, s => Assert.Equal(expected.Series[s.Value("0020000E")!].Length.ToString(System.Globalization.CultureInfo.InvariantCulture), s.Value("00201209")));
        var instances = await JsonArrayAsync(client, $"/dicomweb/studies/{study}/instances?includefield=all");
        Assert.Equal(sops, instances.Select(i => i.Value("00080018")!).Order(StringComparer.Ordinal));

        // WADO-RS metadata: each instance in this study, its series, the study's patient and accession number.
        var metadata = await JsonArrayAsync(client, $"/dicomweb/studies/{study}/metadata");
        Assert.Equal(sops, metadata.Select(i => i.Value("00080018")!).Order(StringComparer.Ordinal));
        Assert.All(metadata, i => Assert.Equal(
            (study, seriesOf[i.Value("00080018")!], expected.PatientId, expected.PatientName, expected.AccessionNumber),
            (i.Value("0020000D"), i.Value("0020000E"), i.Value("00100020"), i.Value("00100010"), i.Value("00080050"))));

        // WADO-RS bytes, read by pydicom: the same.
        var files = Pydicom(await WadoFilesAsync(client, study));
        Assert.Equal(sops, files.Select(f => f["SOPInstanceUID"]!).Order(StringComparer.Ordinal));
        Assert.All(files, f => Assert.Equal(
            (study, seriesOf[f["SOPInstanceUID"]!], expected.PatientId, expected.PatientName, expected.AccessionNumber),
            (f["StudyInstanceUID"], f["SeriesInstanceUID"], f["PatientID"], f["PatientName"], f["AccessionNumber"])));

        // Document e's studyInstances.
        var listed = await JsonArrayAsync(client, $"/o3-dpacs-wado/studyInstances?studyUid={study}");
        Assert.Equal(
            sops.Select(sop => $"{study} {seriesOf[sop]} {sop}").Order(StringComparer.Ordinal),
            listed.Select(i => $"{i.GetProperty("studyInstanceUid").GetString()} {i.GetProperty("seriesInstanceUid").GetString()} {i.GetProperty("sopInstanceUid").GetString()}")
                .Order(StringComparer.Ordinal));

        // Document d's series list of the study in the default archive.
        var archived = await JsonArrayAsync(client, ArchiveSeriesList(archivePatientId, study));
        Assert.Equal(expected.Series.Keys.Except(expected.NotInArchive).Order(StringComparer.Ordinal), archived.Select(s => s.GetProperty("SeriesInstanceUID").GetString()!).Order(StringComparer.Ordinal));
    }

    /// <summary>The study is on no read path: an emptied study leaves them (its stream stays in the log).</summary>
    public static async Task AssertGoneAsync(HttpClient client, string study, string archivePatientId)
    {
        var qido = await client.GetAsync($"/dicomweb/studies?StudyInstanceUID={study}");
        Assert.True(qido.StatusCode == HttpStatusCode.NoContent || (await qido.Content.ReadAsStringAsync()) == "[]", $"QIDO still shows {study}");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/dicomweb/studies/{study}/metadata")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/o3-dpacs-wado/studyInstances?studyUid={study}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(ArchiveSeriesList(archivePatientId, study))).StatusCode);
    }

    private static string ArchiveSeriesList(string patientId, string study) =>
        "/api/v1/patient/study/series/list/" + Archive.ArchiveSupport.Query(("Project", "default"), ("Archive", "default"), ("PatientID", patientId), ("StudyInstanceUID", study));

    private static async Task<List<JsonElement>> JsonArrayAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {text}");
        return [.. JsonDocument.Parse(text).RootElement.Clone().EnumerateArray()];
    }

    /// <summary>The study's instances as WADO-RS serves them (multipart/related, any transfer syntax).</summary>
    public static async Task<List<byte[]>> WadoFilesAsync(HttpClient client, string study)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/dicomweb/studies/{study}");
        request.Headers.TryAddWithoutValidation("Accept", "multipart/related; type=\"application/dicom\"; transfer-syntax=*");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await Ingestion.CorpusRoundTripTests.PartsAsync(response);
    }

    private static readonly string[] PydicomKeywords =
        ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "PatientID", "PatientName", "AccessionNumber", "StudyDescription"];

    /// <summary>The files as pydicom (an outside parser) reads them: the identifying attributes of each (absent: null).</summary>
    public static List<Dictionary<string, string?>> Pydicom(IReadOnlyList<byte[]> files)
    {
        var directory = Directory.CreateTempSubdirectory("series-move-");
        try
        {
            var paths = files.Select((bytes, i) =>
            {
                var path = Path.Combine(directory.FullName, $"{i}.dcm");
                File.WriteAllBytes(path, bytes);
                return path;
            }).ToList();
            const string script = """
                import json, sys, pydicom
                keys = sys.argv[1].split(",")
                out = []
                for path in sys.argv[2:]:
                    d = pydicom.dcmread(path)
                    out.append({k: (str(d.get(k)) if k in d and str(d.get(k)) != "" else None) for k in keys})
                print(json.dumps(out))
                """;
            var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
            using var process = Process.Start(new ProcessStartInfo(python, ["-c", script, string.Join(',', PydicomKeywords), .. paths])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = process.StandardOutput.ReadToEnd();
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"pydicom failed: {errors}");
            return JsonSerializer.Deserialize<List<Dictionary<string, string?>>>(output)!;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
