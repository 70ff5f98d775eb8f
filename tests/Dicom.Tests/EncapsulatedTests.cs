using System.Text.Json;

namespace EventSourced.Dicom.Tests;

public class EncapsulatedTests
{
    public static TheoryData<string> Files() =>
        [.. CorpusCase.All.Where(c => c.Outcome == "parse" && DicomFile.Open(c.FullPath).Dataset.Find(DicomTag.PixelData)?.Fragments is not null).Select(c => c.File)];

    /// <summary>Fragments and Basic Offset Table as pydicom's encaps module splits the same value.</summary>
    [Theory]
    [MemberData(nameof(Files))]
    public void Fragments_and_offsets_match_pydicom(string file)
    {
        var path = CorpusCase.Get(file).FullPath;
        const string script = """
            import sys, json, pydicom, hashlib
            from pydicom.encaps import get_frame_offsets, generate_pixel_data_fragment
            from pydicom.filebase import DicomBytesIO
            ds = pydicom.dcmread(sys.argv[1])
            fp = DicomBytesIO(ds.PixelData)
            fp.is_little_endian = True
            has, offsets = get_frame_offsets(fp)
            frags = [hashlib.sha256(f).hexdigest() for f in generate_pixel_data_fragment(fp)]
            print(json.dumps({'offsets': offsets if has else [], 'frags': frags}))
            """;
        var theirs = JsonDocument.Parse(Oracles.Python3(script, path)).RootElement;
        var fragments = DicomFile.Open(path).Dataset[DicomTag.PixelData].Fragments!;
        Assert.Equal(theirs.GetProperty("offsets").EnumerateArray().Select(e => e.GetUInt32()), fragments.BasicOffsets());
        Assert.Equal(
            theirs.GetProperty("frags").EnumerateArray().Select(e => e.GetString()),
            fragments.Fragments.Select(f => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(f.Data.Span))));
    }
}
