using EventSourced.Dicom.Imaging;
using Xunit.Abstractions;
using static EventSourced.Dicom.Tests.Imaging.Synthetic;

namespace EventSourced.Dicom.Tests.Imaging;

/// <summary>Thumbnails against Pillow's box filter; rendered JPEGs decoded by djpeg against DCMTK's rendering.</summary>
public class ResizeAndJpegOutputTests(ITestOutputHelper output)
{
    /// <summary>Pillow's Image.resize(size, Image.BOX) of raw 8-bit samples.</summary>
    private static byte[] PillowBox(RenderedImage image, int width, int height)
    {
        var input = Path.Combine(Path.GetTempPath(), $"pil-{Guid.NewGuid():N}.raw");
        File.WriteAllBytes(input, image.Pixels);
        try
        {
            var script = $$"""
                import sys
                from PIL import Image
                data = open(sys.argv[1], 'rb').read()
                im = Image.frombytes('{{(image.Components == 1 ? "L" : "RGB")}}', ({{image.Width}}, {{image.Height}}), data)
                sys.stdout.write(im.resize(({{width}}, {{height}}), Image.BOX).tobytes().hex())
                """;
            return Convert.FromHexString(Oracles.Python3(script, input).Trim());
        }
        finally
        {
            File.Delete(input);
        }
    }

    [Theory]
    [InlineData("image_dfl.dcm", 128, 128)]          // 512 → 128, 4:1 exactly
    [InlineData("CT_small.dcm", 64, 64)]             // 128 → 64
    [InlineData("SC_rgb_jpeg_dcmd.dcm", 64, 64)]     // RGB 256 → 64
    public void Integer_ratio_thumbnails_equal_pillows_box_filter_within_one(string file, int w, int h)
    {
        var ds = Load(file).Dataset;
        var full = DicomRenderer.Render(ds);
        var thumb = DicomRenderer.Render(ds, new RenderOptions { MaxWidth = w, MaxHeight = h });
        Assert.Equal((w, h), (thumb.Width, thumb.Height));
        var (max, differing) = ImagingOracles.Compare(thumb.Pixels, PillowBox(full, w, h));
        output.WriteLine($"{file} → {w}x{h}: max |diff| {max}, {differing} of {thumb.Pixels.Length} differ");
        Assert.True(max <= 1, $"max {max}");
    }

    /// <summary>
    /// Non-integer ratios: Pillow's box weighs whole source pixels by whether their centre falls in the area,
    /// we weigh partial pixels by coverage; the two agree closely on smooth content.
    /// </summary>
    [Theory]
    [InlineData("image_dfl.dcm", 100, 100)]
    [InlineData("SC_rgb_jpeg_dcmd.dcm", 75, 75)]
    [InlineData("CT_small.dcm", 50, 40)]
    public void Other_ratios_are_close_to_pillows_box_filter(string file, int maxW, int maxH)
    {
        var ds = Load(file).Dataset;
        var full = DicomRenderer.Render(ds);
        var thumb = DicomRenderer.Render(ds, new RenderOptions { MaxWidth = maxW, MaxHeight = maxH });
        var (w, h) = ImageResizer.FitSize(full.Width, full.Height, maxW, maxH);
        Assert.Equal((w, h), (thumb.Width, thumb.Height));
        Assert.True(w <= maxW && h <= maxH);
        var theirs = PillowBox(full, w, h);
        var psnr = ImagingOracles.Psnr(thumb.Pixels, theirs);
        output.WriteLine($"{file} → {w}x{h}: PSNR vs Pillow {psnr:F1} dB");
        Assert.True(psnr > 30, $"PSNR {psnr:F1} dB");
    }

    [Fact]
    public void Fit_keeps_aspect_never_enlarges_and_preserves_flat_images()
    {
        Assert.Equal((128, 64), ImageResizer.FitSize(512, 256, 128, 128));
        Assert.Equal((64, 128), ImageResizer.FitSize(256, 512, 128, 128));
        Assert.Equal((100, 50), ImageResizer.FitSize(100, 50, 200, 200));
        Assert.Equal((1, 1), ImageResizer.FitSize(1000, 1, 1, 1));
        Assert.Equal((40, 1), ImageResizer.FitSize(4000, 3, 40, null));
        var flat = new RenderedImage(37, 23, 3, Enumerable.Repeat((byte)77, 37 * 23 * 3).ToArray());
        var small = ImageResizer.Fit(flat, 10, 10);
        Assert.Equal((10, 6), (small.Width, small.Height));
        Assert.All(small.Pixels, p => Assert.Equal(77, p));
    }

    /// <summary>The whole path: render, encode at quality 90, decode with djpeg, compare with DCMTK's 8-bit rendering.</summary>
    [Theory]
    [InlineData("CT_small.dcm", new[] { "+Ww", "40", "400" }, 40.0, 400.0)]
    [InlineData("MR_small.dcm", new[] { "+Wi", "1" }, double.NaN, double.NaN)]
    [InlineData("SC_rgb_jpeg_dcmd.dcm", new string[0], double.NaN, double.NaN)]
    [InlineData("image_dfl.dcm", new[] { "+Wm" }, double.NaN, double.NaN)]
    public void Rendered_jpeg_decodes_close_to_dcmtks_rendering(string file, string[] dcmtk, double center, double width)
    {
        var path = ImagingOracles.Corpus(file);
        var options = double.IsNaN(center) ? RenderOptions.Default : new RenderOptions { Window = new(center, width) };
        using var ms = new MemoryStream();
        DicomRenderer.RenderJpeg(DicomFile.Open(path).Dataset, ms, options, new JpegEncoderOptions { Quality = 90 });
        var decoded = ImagingOracles.DecodeWithDjpeg(ms.ToArray());
        var reference = ImagingOracles.RenderWithDcmtk(path, dcmtk);
        Assert.Equal((reference.Width, reference.Height, reference.Components), (decoded.Width, decoded.Height, decoded.Components));
        var psnr = ImagingOracles.Psnr(decoded.Pixels, reference.Pixels);
        output.WriteLine($"{file}: {ms.Length} bytes, PSNR vs dcmj2pnm {psnr:F2} dB");
        Assert.True(psnr > 35, $"PSNR {psnr:F2} dB");
    }
}
