using EventSourced.Dicom.Imaging;
using static EventSourced.Dicom.Tests.Imaging.Synthetic;

namespace EventSourced.Dicom.Tests.Imaging;

/// <summary>Broken or unsupported images: only <see cref="DicomRenderException"/>, with the right reason; never an index error.</summary>
public class RenderHostileInputTests
{
    private static DicomDataset Mr() => Load("MR_small.dcm").Dataset;

    private static DicomRenderException Fails(DicomDataset ds, RenderOptions? options = null) =>
        Assert.Throws<DicomRenderException>(() => DicomRenderer.Render(ds, options));

    [Fact]
    public void Truncated_pixel_data_is_reported()
    {
        var ds = Mr();
        SetPixels(ds, ds[DicomTag.PixelData].RawValue[..8190].ToArray());
        Assert.Equal(DicomRenderError.TruncatedPixelData, Fails(ds).Error);
        SetPixels(ds, []);
        Assert.Equal(DicomRenderError.TruncatedPixelData, Fails(ds).Error);
    }

    [Fact]
    public void Truncated_frame_bytes_are_reported_for_spans_and_streams()
    {
        var ds = Mr();
        var full = ds[DicomTag.PixelData].RawValue.ToArray();
        Assert.Equal(DicomRenderError.TruncatedPixelData,
            Assert.Throws<DicomRenderException>(() => DicomRenderer.RenderFrame(ds, full.AsSpan(0, 4095))).Error);
        Assert.Equal(DicomRenderError.TruncatedPixelData,
            Assert.Throws<DicomRenderException>(() => DicomRenderer.RenderFrame(ds, new MemoryStream(full, 0, 100))).Error);
    }

    [Fact]
    public void A_second_frame_beyond_the_data_is_truncation_and_beyond_the_count_is_out_of_range()
    {
        var ds = Mr();
        SetText(ds, 0x00280008, DicomVR.IS, "2");
        Assert.Equal(DicomRenderError.TruncatedPixelData, Fails(ds, new() { Frame = 1 }).Error);
        Assert.Equal(DicomRenderError.FrameOutOfRange, Fails(ds, new() { Frame = 2 }).Error);
        Assert.Equal(DicomRenderError.FrameOutOfRange, Fails(ds, new() { Frame = -1 }).Error);
    }

    [Theory]
    [InlineData(0x00280010, 0)]     // zero rows
    [InlineData(0x00280011, 0)]     // zero columns
    [InlineData(0x00280101, 17)]    // Bits Stored > Bits Allocated
    [InlineData(0x00280101, 0)]
    [InlineData(0x00280102, 16)]    // High Bit outside Bits Allocated
    [InlineData(0x00280102, 3)]     // High Bit below Bits Stored − 1
    [InlineData(0x00280002, 3)]     // three samples for MONOCHROME2
    [InlineData(0x00280103, 2)]     // Pixel Representation 2
    public void Impossible_attributes_are_invalid(uint tag, int value)
    {
        var ds = Mr();
        SetUs(ds, tag, value);
        Assert.Equal(DicomRenderError.InvalidAttribute, Fails(ds).Error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(12)]
    [InlineData(24)]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(65535)]
    public void Absurd_bits_allocated_are_unsupported(int bits)
    {
        var ds = Mr();
        SetUs(ds, 0x00280100, bits);
        var e = Fails(ds);
        Assert.Equal(DicomRenderError.UnsupportedBitDepth, e.Error);
        Assert.True(e.IsUnsupported);
    }

    [Theory]
    [InlineData("PALETTE COLOR")]
    [InlineData("YBR_PARTIAL_422")]
    [InlineData("YBR_ICT")]
    [InlineData("HSV")]
    [InlineData("")]
    public void Unsupported_photometric_interpretations(string pi)
    {
        var ds = Mr();
        SetText(ds, 0x00280004, DicomVR.CS, pi);
        var e = Fails(ds);
        Assert.Equal(DicomRenderError.UnsupportedPhotometricInterpretation, e.Error);
        Assert.True(e.IsUnsupported);
    }

    [Theory]
    [InlineData("rtdose.dcm", DicomRenderError.UnsupportedBitDepth)]          // 32-bit dose grid
    [InlineData("liver_1frame.dcm", DicomRenderError.UnsupportedBitDepth)]    // 1-bit segmentation
    [InlineData("JPEG-lossy.dcm", DicomRenderError.UnsupportedTransferSyntax)] // encapsulated
    [InlineData("SC_rgb_jpeg_dcmtk.dcm", DicomRenderError.UnsupportedTransferSyntax)]
    [InlineData("rtplan.dcm", DicomRenderError.InvalidAttribute)]              // no image at all
    public void Corpus_files_we_do_not_render(string file, DicomRenderError error) =>
        Assert.Equal(error, Fails(Load(file).Dataset).Error);

    [Fact]
    public void Missing_pixel_data_and_missing_rows()
    {
        var ds = Mr();
        ds.Remove(DicomTag.PixelData);
        Assert.Equal(DicomRenderError.NoPixelData, Fails(ds).Error);
        ds = Mr();
        ds.Remove(DicomTag.Rows);
        Assert.Equal(DicomRenderError.InvalidAttribute, Fails(ds).Error);
    }

    [Fact]
    public void Huge_dimensions_with_little_data_allocate_nothing_like_them()
    {
        var ds = Mr();
        SetUs(ds, 0x00280010, 65535);
        SetUs(ds, 0x00280011, 65535);
        SetText(ds, 0x00280008, DicomVR.IS, "2147483647");
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(DicomRenderError.TruncatedPixelData, Fails(ds, new() { Frame = 1000 }).Error);
        Assert.Equal(DicomRenderError.TruncatedPixelData,
            Assert.Throws<DicomRenderException>(() => DicomRenderer.RenderFrame(ds, new MemoryStream(new byte[10]))).Error);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
    }

    [Fact]
    public void Malformed_numbers_are_invalid_attributes()
    {
        var ds = Mr();
        SetText(ds, 0x00281053, DicomVR.DS, "abc");
        Assert.Equal(DicomRenderError.InvalidAttribute, Fails(ds).Error);
        ds = Mr();
        SetText(ds, 0x00280008, DicomVR.IS, "x");
        Assert.Equal(DicomRenderError.InvalidAttribute, Fails(ds).Error);
        ds = Mr();
        SetText(ds, 0x00280008, DicomVR.IS, "0");
        Assert.Equal(DicomRenderError.InvalidAttribute, Fails(ds).Error);
        // A broken window is ignored (DCMTK does the same): min/max instead.
        ds = Mr();
        SetText(ds, 0x00281050, DicomVR.DS, "zz");
        Assert.Equal(DicomRenderer.Render(ds, new() { MinMaxWindow = true }).Pixels, DicomRenderer.Render(ds).Pixels);
    }

    /// <summary>Seeded random Image Pixel attributes and pixel lengths: a rendering or our exception, nothing else.</summary>
    [Fact]
    public void Random_attribute_combinations_give_only_our_exception()
    {
        var rng = new Random(20261123);
        string[] pis = ["MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422", "PALETTE COLOR", "XYZ"];
        int rendered = 0, refused = 0;
        for (var i = 0; i < 3000; i++)
        {
            // A plausible image, then one to three attributes (or the pixel length) made hostile.
            var ds = new DicomDataset();
            int Pick(params int[] v) => v[rng.Next(v.Length)];
            var pi = pis[rng.Next(5)];
            var spp = pi.StartsWith("MONO", StringComparison.Ordinal) ? 1 : 3;
            var ba = pi == "YBR_FULL_422" ? 8 : Pick(8, 16);
            var bs = rng.Next(1, ba + 1);
            int rows = rng.Next(1, 40), cols = rng.Next(1, 40) & ~(pi == "YBR_FULL_422" ? 1 : 0);
            cols = Math.Max(cols, 2);
            var frames = rng.Next(1, 4);
            var attrs = new Dictionary<uint, int>
            {
                [0x00280010] = rows, [0x00280011] = cols, [0x00280002] = spp, [0x00280100] = ba, [0x00280101] = bs,
                [0x00280102] = rng.Next(bs - 1, ba), [0x00280103] = rng.Next(2), [0x00280006] = rng.Next(pi == "YBR_FULL_422" ? 1 : 2),
            };
            var length = (long)rows * cols * (pi == "YBR_FULL_422" ? 2 : spp) * (ba / 8) * frames;
            for (var k = rng.Next(0, 4); k > 0; k--)
            {
                switch (rng.Next(6))
                {
                    case 0: pi = pis[rng.Next(pis.Length)]; break;
                    case 1: length = rng.Next(0, (int)length + 2); break;
                    case 2: frames = Pick(-1, 0, 5, int.MaxValue); break;
                    default:
                        var key = attrs.Keys.ElementAt(rng.Next(attrs.Count));
                        attrs[key] = Pick(0, 1, 2, 3, 7, 9, 17, 32, 65535);
                        break;
                }
            }
            foreach (var (tag, value) in attrs)
            {
                SetUs(ds, tag, value);
            }
            SetText(ds, 0x00280004, DicomVR.CS, pi);
            SetText(ds, 0x00280008, DicomVR.IS, frames.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (rng.Next(3) == 0) SetText(ds, 0x00281050, DicomVR.DS, "40", "x", "1e400");
            if (rng.Next(3) == 0) SetText(ds, 0x00281051, DicomVR.DS, Pick(-5, 0, 1, 400).ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (rng.Next(4) == 0) SetDs(ds, 0x00281053, Pick(0, -1, 2));
            if (rng.Next(20) > 0)
            {
                var pixels = new byte[Math.Min(length, 1 << 20)];
                rng.NextBytes(pixels);
                SetPixels(ds, pixels);
            }
            var options = new RenderOptions
            {
                Frame = Pick(0, 0, 0, 1, 2, 5),
                MaxWidth = rng.Next(3) == 0 ? Pick(1, 2, 3, 100) : null,
                MaxHeight = rng.Next(3) == 0 ? Pick(1, 4, 100) : null,
            };
            try
            {
                var image = DicomRenderer.Render(ds, options);
                Assert.Equal(image.Width * image.Height * image.Components, image.Pixels.Length);
                using var ms = new MemoryStream();
                image.EncodeJpeg(ms);
                rendered++;
            }
            catch (DicomRenderException)
            {
                refused++;
            }
        }
        Assert.True(rendered > 500 && refused > 500, $"{rendered} rendered, {refused} refused");
    }
}
