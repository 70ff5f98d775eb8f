using System.Text.Json.Nodes;

namespace EventSourced.Dicom.Tests;

/// <summary>Input without preamble, or without File Meta Information: the encoding is found from the data.</summary>
public class DetectionTests
{
    [Theory]
    [InlineData("test_files/CT_small.dcm", "1.2.840.10008.1.2.1")]
    [InlineData("test_files/MR_small_implicit.dcm", "1.2.840.10008.1.2")]
    [InlineData("test_files/rtplan.dcm", "1.2.840.10008.1.2")]
    [InlineData("test_files/MR_small_bigendian.dcm", "1.2.840.10008.1.2.2")]
    public void Without_preamble_or_without_meta_the_data_set_reads_the_same(string file, string syntax)
    {
        var bytes = File.ReadAllBytes(CorpusCase.Get(file).FullPath);
        var full = DicomReader.Read(bytes);
        Assert.Equal(syntax, full.TransferSyntax.Uid);
        var expected = JsonNode.Parse(DicomJsonWriter.Serialize(full.Dataset));

        // No preamble, meta kept (PS3.10 §7.1 allows neither, but such files exist).
        var noPreamble = DicomReader.Read(bytes.AsMemory(132));
        Assert.False(noPreamble.HadPreamble);
        Assert.Empty(Oracles.Diff(JsonNode.Parse(DicomJsonWriter.Serialize(noPreamble.Dataset)), expected));

        // Data set only: the meta group's length says where it starts.
        var groupLength = full.Meta.GetValue<uint>(DicomTag.FileMetaInformationGroupLength)!.Value;
        var datasetOnly = DicomReader.Read(bytes.AsMemory(132 + 12 + (int)groupLength));
        Assert.Equal(0, datasetOnly.Meta.Count);
        Assert.Equal(syntax, datasetOnly.TransferSyntax.Uid);
        Assert.Empty(Oracles.Diff(JsonNode.Parse(DicomJsonWriter.Serialize(datasetOnly.Dataset)), expected));
    }
}
