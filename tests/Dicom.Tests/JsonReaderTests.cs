using System.Text.Json.Nodes;

namespace EventSourced.Dicom.Tests;

public class JsonReaderTests
{
    /// <summary>DCMTK's DICOM JSON of every file it converts, read by us and written back, is the same document.</summary>
    [Theory]
    [MemberData(nameof(CorpusCase.Parsing), MemberType = typeof(CorpusCase))]
    public void Reads_what_the_oracle_writes_and_writes_it_back(string file)
    {
        var c = CorpusCase.Get(file);
        var theirs = c.Oracle == "dcm2json" ? Oracles.Dcm2Json(c.FullPath) : JsonNode.Parse(DicomJsonWriter.Serialize(DicomFile.Open(c.FullPath).Dataset))!;
        var dataset = DicomJsonReader.Parse(theirs.ToJsonString());
        var again = JsonNode.Parse(DicomJsonWriter.Serialize(dataset));
        var diffs = Oracles.Diff(again, theirs);
        Assert.True(diffs.Count == 0, string.Join("\n", diffs.Select(d => d.Length > 300 ? d[..300] : d)));
    }

    [Fact]
    public void Bulk_data_uris_and_thresholds()
    {
        var file = DicomFile.Open(CorpusCase.Get("test_files/CT_small.dcm").FullPath);
        var json = DicomJsonWriter.Serialize(file.Dataset, new DicomJsonOptions { BulkDataThreshold = 1024, BulkDataUri = e => $"https://example.org/bulk/{e.Tag.Value:X8}" });
        var node = JsonNode.Parse(json)!;
        Assert.Equal("https://example.org/bulk/7FE00010", node["7FE00010"]!["BulkDataURI"]!.GetValue<string>());
        var dropped = JsonNode.Parse(DicomJsonWriter.Serialize(file.Dataset, new DicomJsonOptions { BulkDataThreshold = 1024 }))!;
        Assert.Equal("{\"vr\":\"OW\"}", dropped["7FE00010"]!.ToJsonString());
        var back = DicomJsonReader.Parse(json);
        Assert.Equal("https://example.org/bulk/7FE00010", back[DicomTag.PixelData].BulkDataUri);
        Assert.Equal("https://example.org/bulk/7FE00010", JsonNode.Parse(DicomJsonWriter.Serialize(back))!["7FE00010"]!["BulkDataURI"]!.GetValue<string>());
        Assert.Throws<InvalidOperationException>(() => DicomWriter.ToBytes(new DicomFile(new DicomDataset(), back, DicomTransferSyntax.ExplicitVRLittleEndian)));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"0010001\":{\"vr\":\"PN\"}}")]
    [InlineData("{\"00100010\":{\"vr\":\"XX\"}}")]
    [InlineData("{\"00280010\":{\"vr\":\"US\",\"Value\":[\"a\"]}}")]
    [InlineData("{\"00280010\":{\"vr\":\"US\",\"Value\":[70000]}}")]
    [InlineData("{\"00081115\":{\"vr\":\"SQ\",\"Value\":[1]}}")]
    [InlineData("{\"00100010\":")]
    public void Malformed_json_is_our_error(string json) => Assert.Throws<DicomFormatException>(() => DicomJsonReader.Parse(json));
}
