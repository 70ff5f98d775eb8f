using System.Text.Json.Nodes;

namespace EventSourced.Dicom.Tests;

/// <summary>Read → write → read keeps every element, and DCMTK reads what we write without complaint.</summary>
public class RoundTripTests
{
    /// <summary>
    /// meta_missing_tsyntax.dcm and nested_priv_SQ.dcm carry elements in group 0001, which PS3.5 §7.1 forbids;
    /// dcmdump flags that content (it does so on the source files too), not our encoding. Nothing else is tolerated.
    /// </summary>
    private static readonly System.Text.RegularExpressions.Regex IllegalGroupInSource =
        new(@"^W: (DcmItem: Invalid Element \(000[1357],[0-9a-f]{4}\) found in data set|Found element \(000[1357],[0-9a-f]{4}\) with VR UN and undefined length, reading a sequence with transfer syntax LittleEndianImplicit \(CP-246\))$");

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var c in CorpusCase.All.Where(c => c.Outcome == "parse"))
        {
            data.Add(c.File, false);
        }
        // Implicit VR and undefined lengths on a sample with sequences, big endian, private SQs and deflate.
        foreach (var f in new[] { "test_files/rtplan.dcm", "test_files/MR_small_bigendian.dcm", "test_files/nested_priv_SQ.dcm", "test_files/image_dfl.dcm", "test_files/test-SR.dcm" })
        {
            data.Add(f, true);
        }
        return data;
    }

    [Theory]
    [InlineData("test_files/image_dfl.dcm")]
    [InlineData("test_files/CT_small.dcm")]
    [InlineData("test_files/rtstruct.dcm")]
    public void Deflated_output_reads_back_and_dcmdump_accepts_it(string file)
    {
        var original = DicomFile.Open(CorpusCase.Get(file).FullPath);
        var bytes = DicomWriter.ToBytes(original, new DicomWriteOptions { TransferSyntax = DicomTransferSyntax.DeflatedExplicitVRLittleEndian });
        var reread = DicomReader.Read(bytes);
        Assert.True(reread.TransferSyntax.Deflated);
        var diffs = Oracles.Diff(JsonNode.Parse(DicomJsonWriter.Serialize(reread.Dataset)), JsonNode.Parse(DicomJsonWriter.Serialize(original.Dataset)));
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
        var tmp = Path.Combine(Path.GetTempPath(), $"es-dicom-dfl-{Guid.NewGuid():N}.dcm");
        File.WriteAllBytes(tmp, bytes);
        try
        {
            // DCMTK's own reading of our deflated file must equal DCMTK's reading of the original.
            var dcmtk = Oracles.Diff(Oracles.Dcm2Json(tmp), Oracles.Dcm2Json(CorpusCase.Get(file).FullPath));
            Assert.True(dcmtk.Count == 0, string.Join("\n", dcmtk));
            var (exit, _, stderr) = Oracles.Run(Oracles.Tool("dcmdump"), tmp);
            Assert.True(exit == 0 && stderr.Length == 0, stderr);
        }
        finally
        {
            File.Delete(tmp);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Corpus_round_trips_and_dcmdump_accepts_the_output(string file, bool implicitAndUndefined)
    {
        var path = CorpusCase.Get(file).FullPath;
        var original = DicomFile.Open(path);
        var options = implicitAndUndefined && !original.TransferSyntax.Encapsulated
            ? new DicomWriteOptions { TransferSyntax = DicomTransferSyntax.ImplicitVRLittleEndian, UndefinedLengthSequences = true }
            : DicomWriteOptions.Default;
        var bytes = DicomWriter.ToBytes(original, options);
        var reread = DicomReader.Read(bytes);

        var before = DicomJsonWriter.Serialize(original.Dataset);
        var after = DicomJsonWriter.Serialize(reread.Dataset);
        if (original.Dataset.Find(DicomTag.PixelData)?.Fragments is not null)
        {
            // Encapsulated Pixel Data is written as OB (PS3.5 §A.4) even where the source said OW.
            before = before.Replace("\"7FE00010\":{\"vr\":\"OW\"", "\"7FE00010\":{\"vr\":\"OB\"", StringComparison.Ordinal);
        }
        if (options.TransferSyntax?.ExplicitVR == false)
        {
            // Implicit VR carries no VR: OB/OW data come back with the dictionary's OW (PS3.5 Annex A.1).
            before = before.Replace("\"vr\":\"OB\"", "\"vr\":\"OW\"", StringComparison.Ordinal);
            after = after.Replace("\"vr\":\"OB\"", "\"vr\":\"OW\"", StringComparison.Ordinal);
        }
        var diffs = Oracles.Diff(JsonNode.Parse(after), JsonNode.Parse(before));
        Assert.True(diffs.Count == 0, string.Join("\n", diffs));
        Assert.Equal(DicomWriter.ImplementationClassUid, reread.Meta.GetString(DicomTag.ImplementationClassUID));
        Assert.Equal(reread.TransferSyntax.Uid, reread.Meta.GetString(DicomTag.TransferSyntaxUID));

        var tmp = Path.Combine(Path.GetTempPath(), $"es-dicom-{Guid.NewGuid():N}.dcm");
        File.WriteAllBytes(tmp, bytes);
        try
        {
            var (exit, _, stderr) = Oracles.Run(Oracles.Tool("dcmdump"), tmp);
            Assert.True(exit == 0, $"dcmdump exit {exit}: {stderr}");
            var complaints = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !IllegalGroupInSource.IsMatch(l)).ToList();
            Assert.True(complaints.Count == 0, $"dcmdump complained: {string.Join("\n", complaints)}");
        }
        finally
        {
            File.Delete(tmp);
        }
    }
}
