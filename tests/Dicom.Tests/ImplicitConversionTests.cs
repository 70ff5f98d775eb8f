using System.Text.Json.Nodes;

namespace EventSourced.Dicom.Tests;

/// <summary>
/// DCMTK re-encodes corpus files as Implicit VR Little Endian (dcmconv +ti); reading those, where every VR
/// comes from a dictionary (standard, private by creator, US/SS by Pixel Representation), must give what
/// dcm2json gives for the same converted file.
/// </summary>
public class ImplicitConversionTests
{
    public static TheoryData<string> Files() =>
        [.. CorpusCase.All.Where(c => c.Outcome == "parse" && c.Oracle == "dcm2json").Select(c => c.File)];

    [Theory]
    [MemberData(nameof(Files))]
    public void Implicit_vr_copy_made_by_DCMTK_reads_as_DCMTK_reads_it(string file)
    {
        var tmp = Path.Combine(Path.GetTempPath(), $"es-dicom-ti-{Guid.NewGuid():N}.dcm");
        try
        {
            var (exit, _, stderr) = Oracles.Run(Oracles.Tool("dcmconv"), "+ti", CorpusCase.Get(file).FullPath, tmp);
            Assert.True(exit == 0, $"dcmconv failed: {stderr}");
            var ours = JsonNode.Parse(DicomJsonWriter.Serialize(DicomFile.Open(tmp).Dataset));
            var diffs = Oracles.Diff(ours, Oracles.Dcm2Json(tmp));
            Assert.True(diffs.Count == 0, string.Join("\n", diffs.Select(d => d.Length > 300 ? d[..300] : d)));
        }
        finally
        {
            File.Delete(tmp);
        }
    }
}
