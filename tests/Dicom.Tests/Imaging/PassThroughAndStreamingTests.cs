using System.Security.Cryptography;
using System.Text.Json;
using EventSourced.Dicom.Imaging;
using static EventSourced.Dicom.Tests.Imaging.Synthetic;

namespace EventSourced.Dicom.Tests.Imaging;

/// <summary>JPEG Baseline frames served as stored (checked against pydicom's frame split and djpeg), and rendering from streamed bytes.</summary>
public class PassThroughAndStreamingTests
{
    public static TheoryData<string> JpegBaselineFiles() =>
        [.. CorpusCase.All.Where(c => c.Outcome == "parse" && c.File.StartsWith("test_files/", StringComparison.Ordinal)
            && DicomFile.Open(c.FullPath).TransferSyntax.Uid == JpegPassThrough.JpegBaselineUid).Select(c => c.File)];

    /// <summary>pydicom's frames (encaps.generate_pixel_data_frame) as SHA-256 hex.</summary>
    private static string[] PydicomFrames(string path, int frames)
    {
        const string script = """
            import sys, json, hashlib, pydicom
            from pydicom.encaps import generate_pixel_data_frame
            ds = pydicom.dcmread(sys.argv[1])
            n = int(ds.get('NumberOfFrames', 1) or 1)
            print(json.dumps([hashlib.sha256(f).hexdigest() for f in generate_pixel_data_frame(ds.PixelData, n)]))
            """;
        var hashes = JsonSerializer.Deserialize<string[]>(Oracles.Python3(script, path))!;
        Assert.Equal(frames, hashes.Length);
        return hashes;
    }

    [Theory]
    [MemberData(nameof(JpegBaselineFiles))]
    public void Corpus_jpeg_baseline_frames_equal_pydicoms_and_decode_with_djpeg(string file)
    {
        var path = CorpusCase.Get(file).FullPath;
        var f = DicomFile.Open(path);
        var jpeg = JpegPassThrough.GetFrame(f, 0);
        Assert.Equal(PydicomFrames(path, 1)[0], Convert.ToHexStringLower(SHA256.HashData(jpeg)));
        var info = DicomImageInfo.FromDataset(f.Dataset);
        var decoded = ImagingOracles.DecodeWithDjpeg(jpeg);
        Assert.Equal((info.Columns, info.Rows), (decoded.Width, decoded.Height));
    }

    public static TheoryData<string> Layouts() => ["basic offset table", "no offset table, split fragments", "one fragment per frame"];

    /// <summary>Three frames of our own JPEG in an encapsulated instance we write; read back, each frame is what we put in.</summary>
    [Theory]
    [MemberData(nameof(Layouts))]
    public void Multi_frame_jpeg_baseline_frames_come_back_as_written(string layout)
    {
        var frames = Enumerable.Range(0, 3).Select(k =>
        {
            var px = JpegEncoderTests.Smooth(40 + k, 30, 3);
            using var ms = new MemoryStream();
            JpegEncoder.Encode(ms, px, 40 + k, 30, 3);
            return ms.ToArray();
        }).ToArray();
        var source = Load("SC_rgb_jpeg_dcmtk.dcm");
        var ds = source.Dataset;
        SetText(ds, 0x00280008, DicomVR.IS, "3");
        var seq = new DicomFragmentSequence();
        var offsets = new List<uint>();
        uint at = 0;
        foreach (var frame in frames)
        {
            offsets.Add(at);
            // Split frames in two fragments (even lengths) except for the one-per-frame layout.
            var parts = layout == "one fragment per frame" ? [frame] : new[] { frame[..100], frame[100..] };
            foreach (var part in parts)
            {
                var even = part.Length % 2 == 0 ? part : [.. part, 0];
                seq.Fragments.Add(new DicomFragment(even));
                at += 8 + (uint)even.Length;
            }
        }
        if (layout == "basic offset table")
        {
            seq = new DicomFragmentSequence { OffsetTable = new DicomFragment(Bytes32(offsets)) }.With(seq.Fragments);
        }
        var pixel = new DicomElement(DicomTag.PixelData, DicomVR.OB, ReadOnlyMemory<byte>.Empty) { Fragments = seq };
        ds.Set(pixel);
        var path = Path.Combine(Path.GetTempPath(), $"imaging-{Guid.NewGuid():N}.dcm");
        File.WriteAllBytes(path, DicomWriter.ToBytes(new DicomFile(source.Meta, ds, source.TransferSyntax)));
        try
        {
            var back = DicomFile.Open(path);
            var pydicom = PydicomFrames(path, 3);
            for (var k = 0; k < 3; k++)
            {
                var got = JpegPassThrough.GetFrame(back, k);
                // A pad byte may follow EOI (fragments have even length); decoders ignore it.
                Assert.Equal(frames[k], got[..frames[k].Length]);
                Assert.Equal(pydicom[k], Convert.ToHexStringLower(SHA256.HashData(got)));
                Assert.Equal(40 + k, ImagingOracles.DecodeWithDjpeg(got).Width);
            }
            Assert.Equal(DicomRenderError.FrameOutOfRange, Assert.Throws<DicomRenderException>(() => JpegPassThrough.GetFrame(back, 3)).Error);

            // Streaming read: fragments are references into the file, and the bytes there are the frame.
            var streamed = DicomFile.Open(path, DicomReadOptions.Streaming);
            if (layout != "no offset table, split fragments")
            {
                var refs = JpegPassThrough.GetFrameFragments(streamed.Dataset, 1);
                var bytes = File.ReadAllBytes(path);
                var joined = refs.SelectMany(r => bytes.AsSpan((int)r.Reference!.Value.Offset, (int)r.Reference.Value.Length).ToArray()).ToArray();
                Assert.Equal(pydicom[1], Convert.ToHexStringLower(SHA256.HashData(joined)));
            }
            // Without an offset table, split frames are found by their SOI marker, which a reference does not show.
            Assert.Equal(layout == "no offset table, split fragments" ? DicomRenderError.InvalidEncapsulation : DicomRenderError.PixelDataNotLoaded,
                Assert.Throws<DicomRenderException>(() => JpegPassThrough.GetFrame(streamed, 0)).Error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] Bytes32(List<uint> values) => [.. values.SelectMany(BitConverter.GetBytes)];

    [Theory]
    [InlineData("JPEG-lossy.dcm")]     // 1.2.840.10008.1.2.4.51
    [InlineData("CT_small.dcm")]       // native
    public void Only_jpeg_baseline_passes_through(string file) =>
        Assert.Equal(DicomRenderError.UnsupportedTransferSyntax,
            Assert.Throws<DicomRenderException>(() => JpegPassThrough.GetFrame(Load(file), 0)).Error);

    /// <summary>Pixel Data passed over by a streaming read: the caller reads the frame from the file and renders it.</summary>
    [Theory]
    [InlineData("CT_small.dcm", false)]
    [InlineData("MR_small_bigendian.dcm", true)]
    [InlineData("SC_rgb_jpeg_dcmd.dcm", false)]
    public void Frames_read_from_the_blob_render_as_loaded_pixel_data(string file, bool bigEndian)
    {
        var path = ImagingOracles.Corpus(file);
        var expected = DicomRenderer.Render(DicomFile.Open(path).Dataset);
        var header = DicomFile.Open(path, DicomReadOptions.Streaming).Dataset;
        Assert.Equal(DicomRenderError.PixelDataNotLoaded, Assert.Throws<DicomRenderException>(() => DicomRenderer.Render(header)).Error);
        var reference = header[DicomTag.PixelData].BulkData!.Value;
        var info = DicomImageInfo.FromDataset(header);
        using var blob = File.OpenRead(path);
        blob.Position = reference.Offset + info.FrameOffset(0);
        var fromStream = DicomRenderer.RenderFrame(header, blob, new RenderOptions { SourceBigEndian = bigEndian });
        Assert.Equal(expected.Pixels, fromStream.Pixels);
        var bytes = File.ReadAllBytes(path).AsMemory((int)(reference.Offset + info.FrameOffset(0)), (int)info.FrameLength);
        Assert.Equal(expected.Pixels, DicomRenderer.RenderFrame(header, bytes.Span, new RenderOptions { SourceBigEndian = bigEndian }).Pixels);
    }
}

internal static class FragmentSequenceExtensions
{
    public static DicomFragmentSequence With(this DicomFragmentSequence seq, IEnumerable<DicomFragment> fragments)
    {
        seq.Fragments.AddRange(fragments);
        return seq;
    }
}
