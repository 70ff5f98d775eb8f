using EventSourced.Dicom.Imaging;
using Xunit.Abstractions;
using static EventSourced.Dicom.Tests.Imaging.Synthetic;

namespace EventSourced.Dicom.Tests.Imaging;

/// <summary>
/// Our 8-bit rendering (before any JPEG compression) against DCMTK's dcmj2pnm, pixel by pixel, ±1 allowed.
/// Each case names the file (a corpus file or a variant we write), our options and dcmj2pnm's.
/// </summary>
public class RenderingTests(ITestOutputHelper output)
{
    /// <summary>
    /// A comparison. <paramref name="Tolerance"/> is 1 except for YBR_FULL: DCMTK converts 8-bit YCbCr with
    /// integer tables whose terms are each truncated (dcmimage diybrpxt.h, 4-digit coefficients, offset
    /// 0.5 × 255), up to 2 levels from PS3.3's equations, which we evaluate exactly and round.
    /// </summary>
    public sealed record Case(string Name, Func<DicomFile> Source, RenderOptions Ours, string[] Dcmtk, int Tolerance = 1)
    {
        public override string ToString() => Name;
    }

    private static readonly RenderOptions Header = RenderOptions.Default;

    private static DicomFile Variant(string file, Action<DicomDataset> change)
    {
        var f = Load(file);
        change(f.Dataset);
        return f;
    }

    public static readonly Dictionary<string, Case> Cases = new Case[]
    {
        // 16-bit signed CT, Rescale Intercept −1024, no window in the header.
        new("CT_small: caller window 40/400", () => Load("CT_small.dcm"), new() { Window = new(40, 400) }, ["+Ww", "40", "400"]),
        new("CT_small: no header window, min/max", () => Load("CT_small.dcm"), Header, ["+Wm"]),
        new("CT_small: caller window width 1", () => Load("CT_small.dcm"), new() { Window = new(30, 1) }, ["+Ww", "30", "1"]),
        new("CT_small: caller sigmoid 40/400", () => Load("CT_small.dcm"), new() { Window = new(40, 400, VoiLutFunction.Sigmoid) }, ["+Ww", "40", "400", "+Wfs"]),
        // 16-bit signed MR with Window Center/Width 600/1600 in the header, in four encodings.
        new("MR_small: header window", () => Load("MR_small.dcm"), Header, ["+Wi", "1"]),
        new("MR_small_bigendian: header window", () => Load("MR_small_bigendian.dcm"), Header, ["+Wi", "1"]),
        new("MR_small_implicit: header window", () => Load("MR_small_implicit.dcm"), Header, ["+Wi", "1"]),
        new("MR_small_expb: header window", () => Load("MR_small_expb.dcm"), Header, ["+Wi", "1"]),
        new("MR_small: second of two header windows", () => Variant("MR_small.dcm", d => { SetDs(d, 0x00281050, 600, 300); SetDs(d, 0x00281051, 1600, 500); }),
            new() { HeaderWindowIndex = 1 }, ["+Wi", "2"]),
        new("MR_small: header SIGMOID function", () => Variant("MR_small.dcm", d => SetText(d, 0x00281056, DicomVR.CS, "SIGMOID")), Header, ["+Wi", "1"]),
        // 8-bit unsigned greyscale, deflated syntax.
        new("image_dfl: 8-bit min/max", () => Load("image_dfl.dcm"), Header, ["+Wm"]),
        new("image_dfl: 8-bit as signed, slope 2 intercept -5, min/max", () => Variant("image_dfl.dcm", d =>
        {
            SetUs(d, 0x00280103, 1);
            SetDs(d, 0x00281053, 2);
            SetDs(d, 0x00281052, -5);
        }), Header, ["+Wm"]),
        new("image_dfl: 8-bit as signed, caller window 0/100", () => Variant("image_dfl.dcm", d => SetUs(d, 0x00280103, 1)),
            new() { Window = new(0, 100) }, ["+Ww", "0", "100"]),
        // MONOCHROME1: the same MR relabelled (minimum is white).
        new("MR_small as MONOCHROME1: header window", () => Variant("MR_small.dcm", d => SetText(d, 0x00280004, DicomVR.CS, "MONOCHROME1")), Header, ["+Wi", "1"]),
        new("MR_small as MONOCHROME1: min/max asked for", () => Variant("MR_small.dcm", d => SetText(d, 0x00280004, DicomVR.CS, "MONOCHROME1")), new() { MinMaxWindow = true }, ["+Wm"]),
        new("MR_small: header window ignored, min/max asked for", () => Load("MR_small.dcm"), new() { MinMaxWindow = true }, ["+Wm"]),
        // 12 bits stored at bits 2..13 of 16 (High Bit 13), signed, with noise in the unused bits.
        new("CT_small as 12-bit signed at High Bit 13 with junk bits: min/max", () => Variant("CT_small.dcm", Pack12), Header, ["+Wm"]),
        new("CT_small as 12-bit signed at High Bit 13 with junk bits: window -100/700", () => Variant("CT_small.dcm", Pack12), new() { Window = new(-100, 700) }, ["+Ww", "-100", "700"]),
        // Three frames; frame selection.
        new("MR_small ×3 frames: frame 2", () => Variant("MR_small.dcm", ThreeFrames), new() { Frame = 1 }, ["+F", "2", "+Wi", "1"]),
        new("MR_small ×3 frames: frame 3", () => Variant("MR_small.dcm", ThreeFrames), new() { Frame = 2 }, ["+F", "3", "+Wi", "1"]),
        // Colour.
        new("ExplVR_BigEnd: RGB planar 1, big endian", () => Load("ExplVR_BigEnd.dcm"), Header, []),
        new("SC_rgb_jpeg_dcmd: RGB planar 0 (implicit VR)", () => Load("SC_rgb_jpeg_dcmd.dcm"), Header, []),
        new("SC_rgb_small_odd: RGB 3x3", () => Load("SC_rgb_small_odd.dcm"), Header, []),
        new("SC_ybr_full_422_uncompressed: YBR_FULL_422", () => Load("SC_ybr_full_422_uncompressed.dcm"), Header, []),
        new("SC_rgb_jpeg_dcmd relabelled YBR_FULL", () => Variant("SC_rgb_jpeg_dcmd.dcm", d => SetText(d, 0x00280004, DicomVR.CS, "YBR_FULL")), Header, [], 2),
        new("ExplVR_BigEnd relabelled YBR_FULL (planar 1)", () => Variant("ExplVR_BigEnd.dcm", d => SetText(d, 0x00280004, DicomVR.CS, "YBR_FULL")), Header, [], 2),
        new("SC_rgb_jpeg_dcmd as 16-bit RGB", () => Variant("SC_rgb_jpeg_dcmd.dcm", d =>
        {
            var src = d[DicomTag.PixelData].RawValue.Span;
            var words = new ushort[src.Length];
            for (var i = 0; i < src.Length; i++)
            {
                words[i] = (ushort)(src[i] * 257);
            }
            SetUs(d, 0x00280100, 16);
            SetUs(d, 0x00280101, 16);
            SetUs(d, 0x00280102, 15);
            SetPixels(d, Bytes(words));
        }), Header, []),
    }.ToDictionary(c => c.Name);

    public static TheoryData<string> Names() => [.. Cases.Keys];

    /// <summary>CT_small's stored values minus 1024 as 12-bit two's complement at bits 2..13; bits 0, 1, 14, 15 random.</summary>
    private static void Pack12(DicomDataset d)
    {
        var words = Words(d[DicomTag.PixelData].RawValue.Span);
        var rng = new Random(7);
        for (var i = 0; i < words.Length; i++)
        {
            var s = (short)words[i] - 1024;
            words[i] = (ushort)(((s & 0xFFF) << 2) | (rng.Next(4) << 14) | rng.Next(4));
        }
        SetPixels(d, Bytes(words));
        SetUs(d, 0x00280101, 12);
        SetUs(d, 0x00280102, 13);
        SetDs(d, 0x00281052, 0);
    }

    /// <summary>Frames: the original, its negation, its half.</summary>
    private static void ThreeFrames(DicomDataset d)
    {
        var words = Words(d[DicomTag.PixelData].RawValue.Span);
        var all = new ushort[words.Length * 3];
        for (var i = 0; i < words.Length; i++)
        {
            all[i] = words[i];
            all[words.Length + i] = (ushort)(short)(-(short)words[i]);
            all[2 * words.Length + i] = (ushort)(short)((short)words[i] / 2);
        }
        SetPixels(d, Bytes(all));
        SetText(d, 0x00280008, DicomVR.IS, "3");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Rendering_equals_dcmj2pnm_within_one(string name)
    {
        var c = Cases[name];
        var file = c.Source();
        var path = Write(file, file.Dataset);
        try
        {
            var ours = DicomRenderer.Render(DicomFile.Open(path).Dataset, c.Ours);
            var theirs = ImagingOracles.RenderWithDcmtk(path, c.Dcmtk);
            Assert.Equal((theirs.Width, theirs.Height, theirs.Components), (ours.Width, ours.Height, ours.Components));
            var (max, differing) = ImagingOracles.Compare(ours.Pixels, theirs.Pixels);
            output.WriteLine($"{name}: {ours.Width}x{ours.Height}x{ours.Components}, max |diff| {max}, {differing} of {ours.Pixels.Length} samples differ");
            Assert.True(max <= c.Tolerance, $"max difference {max} ({differing} samples differ)");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
