using System.Net;
using System.Text.Json;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Studies;

/// <summary>Outside readers of a Key Object Selection Document: DCMTK's dcmdump and pydicom.</summary>
public static class KeyObjectOracle
{
    /// <summary>The stored file, byte for byte, through document c's instance retrieval.</summary>
    public static async Task<byte[]> RetrieveAsync(HttpClient client, string study, string series, string sop)
    {
        var response = await client.GetAsync($"/exams/studies/{study}/series/{series}/instance/{sop}?fileType=application/dicom");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>dcmdump's text of the bytes; fails when DCMTK cannot parse them.</summary>
    public static string Dump(byte[] bytes) => WithFile(bytes, path =>
    {
        var (exit, stdout, stderr) = Run("dcmdump", "-q", "-Un", path);
        Assert.True(exit == 0 && stderr.Length == 0, $"dcmdump failed ({exit}): {stderr}");
        return stdout;
    });

    public sealed record References(IReadOnlyList<string> Evidence, IReadOnlyList<string> Content, string Title, string SopInstanceUid);

    // pydicom reads the file and checks the Key Object Selection Document IOD's required attributes (PS3.3
    // A.35.4: Patient, General Study, Key Object Document Series, General Equipment, Key Object Document,
    // SR Document Content, SOP Common), then lists the evidence and content references.
    private const string Script = """
import json, sys
import pydicom
ds = pydicom.dcmread(sys.argv[1])
assert ds.file_meta.MediaStorageSOPClassUID == '1.2.840.10008.5.1.4.1.1.88.59'
assert ds.SOPClassUID == '1.2.840.10008.5.1.4.1.1.88.59'
for keyword in ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyInstanceUID', 'StudyDate', 'StudyTime',
                'ReferringPhysicianName', 'StudyID', 'AccessionNumber', 'Modality', 'SeriesInstanceUID', 'SeriesNumber',
                'ReferencedPerformedProcedureStepSequence', 'Manufacturer', 'InstanceNumber', 'ContentDate', 'ContentTime',
                'CurrentRequestedProcedureEvidenceSequence', 'ValueType', 'ConceptNameCodeSequence', 'ContinuityOfContent',
                'ContentTemplateSequence', 'ContentSequence', 'SOPInstanceUID']:
    assert keyword in ds, 'missing ' + keyword
assert ds.Modality == 'KO' and ds.ValueType == 'CONTAINER' and ds.ContinuityOfContent == 'SEPARATE'
assert ds.ContentTemplateSequence[0].MappingResource == 'DCMR' and ds.ContentTemplateSequence[0].TemplateIdentifier == '2010'
title = ds.ConceptNameCodeSequence[0]
evidence = []
for study in ds.CurrentRequestedProcedureEvidenceSequence:
    assert study.StudyInstanceUID == ds.StudyInstanceUID
    for series in study.ReferencedSeriesSequence:
        for sop in series.ReferencedSOPSequence:
            evidence.append(sop.ReferencedSOPInstanceUID)
content = []
for item in ds.ContentSequence:
    assert item.RelationshipType == 'CONTAINS' and item.ValueType in ('IMAGE', 'COMPOSITE')
    content.append(item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID)
print(json.dumps({'evidence': evidence, 'content': content, 'title': f'{title.CodeValue}^{title.CodingSchemeDesignator}^{title.CodeMeaning}', 'sop': ds.SOPInstanceUID}))
""";

    public static References ReferencedInstances(byte[] bytes) => WithFile(bytes, path =>
    {
        var script = Path.Combine(Path.GetTempPath(), $"kos-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, Script);
        try
        {
            var (exit, stdout, stderr) = Run("/usr/bin/python3", script, path);
            Assert.True(exit == 0, $"pydicom check failed ({exit}): {stderr}");
            var json = JsonDocument.Parse(stdout).RootElement;
            return new References(
                [.. json.GetProperty("evidence").EnumerateArray().Select(e => e.GetString()!)],
                [.. json.GetProperty("content").EnumerateArray().Select(e => e.GetString()!)],
                json.GetProperty("title").GetString()!,
                json.GetProperty("sop").GetString()!);
        }
        finally
        {
            File.Delete(script);
        }
    });

    private static T WithFile<T>(byte[] bytes, Func<string, T> use) => ExternalTool.WithFile(bytes, ".dcm", use);

    private static (int Exit, string Stdout, string Stderr) Run(string exe, params string[] args) => ExternalTool.Run(exe, args);
}
