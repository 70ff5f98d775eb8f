using EventSourced.Dicom.Imaging;
using Xunit.Abstractions;

namespace EventSourced.Dicom.Tests.Imaging;

/// <summary>Our JPEG output decoded by libjpeg-turbo's djpeg, and our tables against cjpeg's.</summary>
public class JpegEncoderTests(ITestOutputHelper output)
{
    /// <summary>A smooth synthetic image: gradients plus low-frequency waves (what a medical image mostly is at 8×8 scale).</summary>
    internal static byte[] Smooth(int width, int height, int components)
    {
        var p = new byte[width * height * components];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                for (var c = 0; c < components; c++)
                {
                    var v = 128 + 60 * Math.Sin((x + 13 * c) / 23.0) * Math.Cos((y - 7 * c) / 31.0) + 50.0 * (x - y) / (width + height);
                    p[(y * width + x) * components + c] = (byte)Math.Clamp((int)v, 0, 255);
                }
            }
        }
        return p;
    }

    private static byte[] Encode(byte[] pixels, int w, int h, int c, int quality, JpegSubsampling sub = JpegSubsampling.Yuv420)
    {
        using var ms = new MemoryStream();
        JpegEncoder.Encode(ms, pixels, w, h, c, new JpegEncoderOptions { Quality = quality, Subsampling = sub });
        return ms.ToArray();
    }

    [Theory]
    [InlineData(512, 512)]
    [InlineData(37, 29)]
    [InlineData(1, 1)]
    [InlineData(8, 8)]
    [InlineData(9, 17)]
    [InlineData(1000, 3)]
    public void Greyscale_decodes_with_djpeg_to_the_source_at_quality_90(int w, int h)
    {
        var src = Smooth(w, h, 1);
        var jpeg = Encode(src, w, h, 1, 90);
        var decoded = ImagingOracles.DecodeWithDjpeg(jpeg);
        Assert.Equal((w, h, 1), (decoded.Width, decoded.Height, decoded.Components));
        var psnr = ImagingOracles.Psnr(src, decoded.Pixels);
        output.WriteLine($"{w}x{h} grey q90: {jpeg.Length} bytes, PSNR {psnr:F2} dB");
        Assert.True(psnr > 40, $"PSNR {psnr:F2} dB");
    }

    [Theory]
    [InlineData(256, 256, JpegSubsampling.Yuv420)]
    [InlineData(256, 256, JpegSubsampling.Yuv444)]
    [InlineData(33, 17, JpegSubsampling.Yuv420)]
    [InlineData(33, 17, JpegSubsampling.Yuv444)]
    [InlineData(1, 1, JpegSubsampling.Yuv420)]
    [InlineData(15, 16, JpegSubsampling.Yuv420)]
    public void Colour_decodes_with_djpeg_to_the_source_at_quality_90(int w, int h, JpegSubsampling sub)
    {
        var src = Smooth(w, h, 3);
        var jpeg = Encode(src, w, h, 3, 90, sub);
        var decoded = ImagingOracles.DecodeWithDjpeg(jpeg);
        Assert.Equal((w, h, 3), (decoded.Width, decoded.Height, decoded.Components));
        var psnr = ImagingOracles.Psnr(src, decoded.Pixels);
        output.WriteLine($"{w}x{h} RGB {sub} q90: {jpeg.Length} bytes, PSNR {psnr:F2} dB");
        Assert.True(psnr > 35, $"PSNR {psnr:F2} dB");
    }

    /// <summary>
    /// Noise is the hard case for the entropy coder (long codes, ZRL runs, large categories, 0xFF stuffing):
    /// our stream must decode and be as faithful as cjpeg's at the same quality (within 0.5 dB).
    /// </summary>
    [Theory]
    [InlineData(1, 90)]
    [InlineData(3, 90)]
    [InlineData(1, 100)]
    [InlineData(3, 20)]
    public void Noise_is_as_faithful_as_cjpeg(int components, int quality)
    {
        const int w = 128, h = 96;
        var rng = new Random(42);
        var src = new byte[w * h * components];
        rng.NextBytes(src);
        var ours = ImagingOracles.DecodeWithDjpeg(Encode(src, w, h, components, quality));
        var (exit, theirJpeg, err) = ImagingOracles.RunBinary(ImagingOracles.Cjpeg, ImagingOracles.ToPnm(w, h, components, src),
            "-quality", quality.ToString(System.Globalization.CultureInfo.InvariantCulture), "-baseline", "-sample", "2x2", "-dct", "float");
        Assert.True(exit == 0, err);
        var theirs = ImagingOracles.DecodeWithDjpeg(theirJpeg);
        double a = ImagingOracles.Psnr(src, ours.Pixels), b = ImagingOracles.Psnr(src, theirs.Pixels);
        output.WriteLine($"noise c={components} q={quality}: ours {a:F2} dB, cjpeg {b:F2} dB");
        Assert.True(a > b - 0.5, $"ours {a:F2} dB vs cjpeg {b:F2} dB");
    }

    /// <summary>DQT and DHT segments byte for byte as cjpeg writes them (IJG quality scaling, Annex K tables).</summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 10)]
    [InlineData(1, 50)]
    [InlineData(3, 75)]
    [InlineData(3, 90)]
    [InlineData(3, 100)]
    public void Quantisation_and_huffman_tables_equal_cjpegs(int components, int quality)
    {
        const int w = 16, h = 16;
        var src = Smooth(w, h, components);
        string[] args = ["-quality", quality.ToString(System.Globalization.CultureInfo.InvariantCulture), "-baseline"];
        // cjpeg applies -sample to a greyscale image's only component too (H=V=2): give it for colour only.
        var (exit, theirs, err) = ImagingOracles.RunBinary(ImagingOracles.Cjpeg, ImagingOracles.ToPnm(w, h, components, src),
            components == 3 ? [.. args, "-sample", "2x2"] : args);
        Assert.True(exit == 0, err);
        var ours = Encode(src, w, h, components, quality);
        Assert.Equal(Segments(theirs, 0xDB), Segments(ours, 0xDB));
        Assert.Equal(Segments(theirs, 0xC4), Segments(ours, 0xC4));
        Assert.Equal(Segments(theirs, 0xC0), Segments(ours, 0xC0));
    }

    /// <summary>The payloads of every marker segment of one kind before SOS, concatenated (tables may be split or merged across segments).</summary>
    private static string Segments(byte[] jpeg, byte marker)
    {
        var parts = new List<string>();
        var i = 2;
        while (i + 4 <= jpeg.Length && jpeg[i] == 0xFF && jpeg[i + 1] != 0xDA)
        {
            var len = jpeg[i + 2] << 8 | jpeg[i + 3];
            if (jpeg[i + 1] == marker)
            {
                parts.Add(Convert.ToHexString(jpeg, i + 4, len - 2));
            }
            i += 2 + len;
        }
        return string.Concat(parts);
    }

    [Fact]
    public void Lower_quality_gives_smaller_files_and_lower_psnr()
    {
        var src = Smooth(256, 256, 1);
        var q30 = Encode(src, 256, 256, 1, 30);
        var q90 = Encode(src, 256, 256, 1, 90);
        Assert.True(q30.Length < q90.Length);
        Assert.True(ImagingOracles.Psnr(src, ImagingOracles.DecodeWithDjpeg(q30).Pixels) < ImagingOracles.Psnr(src, ImagingOracles.DecodeWithDjpeg(q90).Pixels));
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        var ms = new MemoryStream();
        Assert.Throws<ArgumentOutOfRangeException>(() => JpegEncoder.Encode(ms, new byte[4], 0, 4, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => JpegEncoder.Encode(ms, new byte[4], 2, 2, 2));
        Assert.Throws<ArgumentException>(() => JpegEncoder.Encode(ms, new byte[3], 2, 2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => JpegEncoder.Encode(ms, new byte[4], 2, 2, 1, new JpegEncoderOptions { Quality = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => JpegEncoder.Encode(ms, new byte[4], 2, 2, 1, new JpegEncoderOptions { Quality = 101 }));
    }
}
