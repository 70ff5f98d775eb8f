using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EventSourced.Web.Tests.Qido;

/// <summary>What QIDO returns for corpus files equals what DCMTK's dcm2json reports for those files.</summary>
[Collection(QidoCollection.Name)]
public sealed class QidoDcmtkCrossCheckTests(QidoFixture fixture)
{
    private const string Tenant = "qido-dcmtk";

    /// <summary>The attributes QIDO returns by default at some level or matches on (PS3.18 Tables 10.6.3-3/4/5, and the read models' keys).</summary>
    private static readonly string[] QidoTags =
    [
        "00080016", "00080018", "00080020", "00080030", "00080050", "00080060", "00080080", "00080090", "00081010", "00081030", "0008103E",
        "00100010", "00100020", "00100030", "00100040", "0020000D", "0020000E", "00200010", "00200011", "00200013", "00280008", "00280010",
        "00280011", "00280100", "00400244", "00400245", "00080201",
    ];

    [Theory]
    [InlineData("CT_small.dcm")]
    [InlineData("MR_small.dcm")]
    [InlineData("rtplan.dcm")]
    [InlineData("rtstruct.dcm")]
    [InlineData("test-SR.dcm")]
    [InlineData("waveform_ecg.dcm")]
    public async Task Returned_attributes_equal_dcm2json_of_the_file(string file)
    {
        var instance = QidoSupport.FromCorpus(file);
        await fixture.App.StoreAsync(Tenant, instance);
        var client = await fixture.App.ClientForTenantAsync(Tenant, "studies.read");

        var (response, body) = await client.QidoAsync($"/dicomweb/instances?SOPInstanceUID={instance.SopInstanceUid}&includefield=all");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var returned = Assert.Single(body.EnumerateArray());
        var dcmtk = Dcm2Json(Path.Combine(QidoSupport.CorpusFolder, file));

        var compared = 0;
        foreach (var tag in QidoTags)
        {
            var expected = dcmtk[tag];
            if (expected is null)
            {
                continue;
            }

            Assert.True(returned.TryGetProperty(tag, out var actual), $"{file}: {tag} is in the file but not returned");
            Assert.True(Same(expected, JsonNode.Parse(actual.GetRawText())), $"{file}: {tag} dcm2json {expected.ToJsonString()} vs QIDO {actual.GetRawText()}");
            compared++;
        }

        Assert.True(compared >= 5, $"{file}: only {compared} attributes compared");

        // The study and series levels show the same values as the instance they came from.
        var study = Assert.Single((await client.QidoAsync($"/dicomweb/studies?StudyInstanceUID={instance.StudyInstanceUid}")).Body.EnumerateArray());
        foreach (var tag in new[] { "00100010", "00100020", "00080020", "00080050", "00200010" }.Where(t => dcmtk[t] is not null))
        {
            Assert.True(Same(dcmtk[tag]!, JsonNode.Parse(study.GetProperty(tag).GetRawText())), $"{file}: study {tag}");
        }
    }

    private static JsonObject Dcm2Json(string path)
    {
        using var process = Process.Start(new ProcessStartInfo("dcm2json", ["-fc", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return JsonNode.Parse(output)!.AsObject();
    }

    /// <summary>Equal as DICOM JSON: numbers by value (DCMTK and our codec may format DS differently), PN without trailing empty components.</summary>
    private static bool Same(JsonNode? a, JsonNode? b) => (a, b) switch
    {
        (null, null) => true,
        (JsonObject x, JsonObject y) => x.Count == y.Count && x.All(p => y.ContainsKey(p.Key) && Same(p.Value, y[p.Key])),
        (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => Same(p.First, p.Second)),
        (JsonValue x, JsonValue y) when x.GetValueKind() == JsonValueKind.Number && y.GetValueKind() == JsonValueKind.Number =>
            x.GetValue<double>() == y.GetValue<double>(),
        (JsonValue x, JsonValue y) => x.ToJsonString().TrimEnd('^') == y.ToJsonString().TrimEnd('^'),
        _ => false,
    };
}
