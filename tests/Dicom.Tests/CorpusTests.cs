using System.Text.Json.Nodes;

namespace EventSourced.Dicom.Tests;

/// <summary>pydicom's test_files and charset_files against DCMTK (dcm2json) or, where it cannot, pydicom.</summary>
public class CorpusTests
{
    [Fact]
    public void Every_corpus_file_has_an_expected_outcome()
    {
        var root = Oracles.PydicomData;
        Assert.True(Directory.Exists(root), $"{root} missing: apt-get install python3-pydicom");
        var onDisk = Directory.GetFiles(Path.Combine(root, "test_files"), "*.dcm")
            .Concat(Directory.GetFiles(Path.Combine(root, "charset_files"), "*.dcm"))
            .Concat(Directory.GetFiles(Path.Combine(root, "test_files", "dicomdirtests"), "DICOMDIR*"))
            .Select(p => Path.GetRelativePath(root, p))
            .Order(StringComparer.Ordinal);
        Assert.Equal(onDisk, CorpusCase.All.Select(c => c.File).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(CorpusCase.Parsing), MemberType = typeof(CorpusCase))]
    public void Parses_and_every_element_matches_the_oracle(string file)
    {
        var c = CorpusCase.Get(file);
        var ours = JsonNode.Parse(DicomJsonWriter.Serialize(DicomFile.Open(c.FullPath).Dataset));
        var theirs = c.Oracle switch
        {
            "dcm2json" => Oracles.Dcm2Json(c.FullPath),
            "pydicom" or "pydicom-public" => Oracles.PydicomJson(c.FullPath),
            _ => throw new InvalidOperationException($"no oracle for {file}"),
        };
        if (c.Oracle == "pydicom-public")
        {
            // Private elements: DCMTK is the reference for their VRs; dcmdump can show them even where
            // dcm2json cannot convert the file's character set.
            var dataset = DicomFile.Open(c.FullPath).Dataset;
            var (exit, stdout, _) = Oracles.Run(Oracles.Tool("dcmdump"), "-q", c.FullPath);
            Assert.Equal(0, exit);
            var privateLines = System.Text.RegularExpressions.Regex.Matches(stdout, @"^\(([0-9a-f]{4}),([0-9a-f]{4})\) ([A-Z]{2}) ", System.Text.RegularExpressions.RegexOptions.Multiline)
                .Where(m => (Convert.ToUInt16(m.Groups[1].Value, 16) & 1) == 1 && Convert.ToUInt16(m.Groups[2].Value, 16) != 0)
                .ToList();
            Assert.NotEmpty(privateLines);
            foreach (var m in privateLines)
            {
                var tag = new DicomTag(Convert.ToUInt16(m.Groups[1].Value, 16), Convert.ToUInt16(m.Groups[2].Value, 16));
                Assert.Equal(m.Groups[3].Value, DicomVRInfo.Code(dataset[tag].VR));
            }
            RemovePrivateElements(ours!);
            RemovePrivateElements(theirs);
        }
        var diffs = Oracles.Diff(ours, theirs);
        Assert.True(diffs.Count == 0, $"{file} vs {c.Oracle}:\n" + string.Join("\n", diffs.Select(d => d.Length > 300 ? d[..300] : d)));
    }

    [Theory]
    [MemberData(nameof(CorpusCase.Failing), MemberType = typeof(CorpusCase))]
    public void Broken_files_fail_with_our_error_and_DCMTK_agrees_they_are_broken(string file)
    {
        var c = CorpusCase.Get(file);
        var ex = Assert.Throws<DicomFormatException>(() => DicomFile.Open(c.FullPath));
        Assert.True(ex.Offset >= 0, ex.Message);
        Assert.NotNull(ex.Tag);
        var (exit, _, _) = Oracles.Run(Oracles.Tool("dcm2json"), "-fc", c.FullPath);
        Assert.NotEqual(0, exit);
        // The same through the streaming path.
        using var stream = new NonSeekableStream(File.ReadAllBytes(c.FullPath));
        Assert.Throws<DicomFormatException>(() => DicomReader.Read(stream, DicomReadOptions.Streaming));
    }

    private static void RemovePrivateElements(JsonNode node)
    {
        if (node is not JsonObject o)
        {
            return;
        }
        foreach (var key in o.Select(kv => kv.Key).ToList())
        {
            if (key.Length == 8 && (Convert.ToUInt16(key[..4], 16) & 1) == 1)
            {
                o.Remove(key);
            }
            else if (o[key] is JsonObject { } el && el["vr"]?.GetValue<string>() == "SQ" && el["Value"] is JsonArray items)
            {
                foreach (var item in items)
                {
                    if (item is JsonObject)
                    {
                        RemovePrivateElements(item);
                    }
                }
            }
        }
    }
}

/// <summary>A forward-only stream, as a network upload is.</summary>
internal sealed class NonSeekableStream(byte[] data) : Stream
{
    private readonly MemoryStream _inner = new(data);
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    // Small reads, to exercise buffer refills.
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 1000));
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
