using EventSourced.Dicom.Imaging;
using Xunit.Abstractions;
using static EventSourced.Dicom.Tests.Imaging.Synthetic;

namespace EventSourced.Dicom.Tests.Imaging;

/// <summary>
/// YBR_FULL → RGB against Pillow's JFIF YCbCr conversion (the same full-range equations, PS3.3 C.7.6.3.1.2),
/// the tighter oracle next to DCMTK's table approximation (RenderingTests allows ±2 there).
/// </summary>
public class YbrConversionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("SC_rgb_jpeg_dcmd.dcm")]   // planar 0
    [InlineData("ExplVR_BigEnd.dcm")]      // planar 1, saturated colours
    public void Ybr_full_equals_pillows_conversion_within_one(string file)
    {
        var ds = Load(file).Dataset;
        var samples = DicomRenderer.Render(ds).Pixels; // RGB as stored, interleaved: the bytes to reinterpret as YCbCr
        var info = DicomImageInfo.FromDataset(ds);
        SetText(ds, 0x00280004, DicomVR.CS, "YBR_FULL");
        var ours = DicomRenderer.Render(ds).Pixels;
        var input = Path.Combine(Path.GetTempPath(), $"ybr-{Guid.NewGuid():N}.raw");
        File.WriteAllBytes(input, samples);
        try
        {
            var script = $$"""
                import sys
                from PIL import Image
                im = Image.frombytes('YCbCr', ({{info.Columns}}, {{info.Rows}}), open(sys.argv[1], 'rb').read())
                sys.stdout.write(im.convert('RGB').tobytes().hex())
                """;
            var theirs = Convert.FromHexString(Oracles.Python3(script, input).Trim());
            var (max, differing) = ImagingOracles.Compare(ours, theirs);
            output.WriteLine($"{file} as YBR_FULL vs Pillow: max |diff| {max}, {differing} of {theirs.Length} differ");
            Assert.True(max <= 1, $"max {max}");
        }
        finally
        {
            File.Delete(input);
        }
    }
}
