using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace EventSourced.Dicom.Imaging;

/// <summary>What to render and how.</summary>
public sealed record RenderOptions
{
    /// <summary>Zero-based frame number (WADO-RS frame numbers are one-based: subtract one).</summary>
    public int Frame { get; init; }

    /// <summary>Caller's window (WADO-RS <c>window=center,width,function</c>); overrides the header's. Monochrome only.</summary>
    public VoiWindow? Window { get; init; }

    /// <summary>Ignore the header's windows and map the frame's min/max (after rescale) to 0..255 (DCMTK's +Wm).</summary>
    public bool MinMaxWindow { get; init; }

    /// <summary>Which header Window Center/Width pair to use when several are present (default the first).</summary>
    public int HeaderWindowIndex { get; init; }

    /// <summary>Fit the output inside MaxWidth × MaxHeight keeping the aspect ratio (area-average downscaling; never enlarges).</summary>
    public int? MaxWidth { get; init; }

    public int? MaxHeight { get; init; }

    /// <summary>
    /// Frame bytes passed to <see cref="DicomRenderer.RenderFrame(DicomDataset, ReadOnlySpan{byte}, RenderOptions?)"/>
    /// come raw from an Explicit VR Big Endian file (16-bit samples byte-swapped). Loaded Pixel Data
    /// is already little endian (the reader swaps it): leave this false for <see cref="DicomRenderer.Render"/>.
    /// </summary>
    public bool SourceBigEndian { get; init; }

    public static RenderOptions Default { get; } = new();
}

/// <summary>An 8-bit rendered frame: <see cref="Components"/> = 1 (grey) or 3 (R,G,B interleaved), row-major.</summary>
public sealed record RenderedImage(int Width, int Height, int Components, byte[] Pixels)
{
    public void EncodeJpeg(Stream output, JpegEncoderOptions? options = null) =>
        JpegEncoder.Encode(output, Pixels, Width, Height, Components, options);

    public void EncodePng(Stream output) => PngEncoder.Encode(output, Pixels, Width, Height, Components);
}

/// <summary>
/// Renders native (uncompressed) pixel data to 8-bit greyscale or RGB: Modality LUT (Rescale
/// Slope/Intercept, PS3.3 C.11.1), VOI LUT (window, PS3.3 C.11.2.1.2/C.11.2.1.3; the header's first
/// pair, a caller's window, else the frame's min/max), MONOCHROME1 inversion, RGB (planar 0/1),
/// YBR_FULL and YBR_FULL_422 to RGB (PS3.3 C.7.6.3.1.2), optional area-average downscaling.
/// </summary>
public static class DicomRenderer
{
    /// <summary>Renders a frame of the loaded (not passed-over) native Pixel Data of <paramref name="dataset"/>.</summary>
    public static RenderedImage Render(DicomDataset dataset, RenderOptions? options = null)
    {
        options ??= RenderOptions.Default;
        var info = DicomImageInfo.FromDataset(dataset);
        var pixelData = dataset.Find(DicomTag.PixelData)
            ?? throw new DicomRenderException(DicomRenderError.NoPixelData, "no Pixel Data (7FE0,0010)");
        if (pixelData.Fragments is not null)
        {
            throw new DicomRenderException(DicomRenderError.UnsupportedTransferSyntax,
                "encapsulated (compressed) Pixel Data is not decoded; JPEG Baseline frames can be passed through (JpegPassThrough)");
        }
        if (pixelData.BulkData is not null || pixelData.BulkDataUri is not null)
        {
            throw new DicomRenderException(DicomRenderError.PixelDataNotLoaded,
                "Pixel Data was not loaded; read the frame's bytes (DicomImageInfo.FrameOffset/FrameLength) and call RenderFrame");
        }
        info.CheckFrame(options.Frame);
        var offset = info.FrameOffset(options.Frame);
        var value = pixelData.RawValue;
        if (value.Length < offset + info.FrameLength)
        {
            throw new DicomRenderException(DicomRenderError.TruncatedPixelData,
                $"Pixel Data has {value.Length} bytes; frame {options.Frame} needs bytes {offset}..{offset + info.FrameLength}");
        }
        return RenderFrame(info, value.Span.Slice((int)offset, (int)info.FrameLength), options with { SourceBigEndian = false });
    }

    /// <summary>Renders one frame given its bytes (e.g. read from the blob at the Pixel Data value offset + <see cref="DicomImageInfo.FrameOffset"/>).</summary>
    public static RenderedImage RenderFrame(DicomDataset dataset, ReadOnlySpan<byte> frame, RenderOptions? options = null)
    {
        options ??= RenderOptions.Default;
        var info = DicomImageInfo.FromDataset(dataset);
        info.CheckFrame(options.Frame);
        return RenderFrame(info, frame, options);
    }

    /// <summary>Renders one frame read from <paramref name="frame"/> (exactly <see cref="DicomImageInfo.FrameLength"/> bytes are read).</summary>
    public static RenderedImage RenderFrame(DicomDataset dataset, Stream frame, RenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        options ??= RenderOptions.Default;
        var info = DicomImageInfo.FromDataset(dataset);
        info.CheckFrame(options.Frame);
        // Read in chunks so that a header claiming a huge frame costs only what the stream really holds.
        using var buffer = new MemoryStream();
        var chunk = new byte[Math.Min(info.FrameLength, 1 << 20)];
        while (buffer.Length < info.FrameLength)
        {
            var read = frame.Read(chunk, 0, (int)Math.Min(chunk.Length, info.FrameLength - buffer.Length));
            if (read == 0)
            {
                throw new DicomRenderException(DicomRenderError.TruncatedPixelData,
                    $"the stream ended after {buffer.Length} bytes of a {info.FrameLength}-byte frame");
            }
            if (buffer.Length + read > Array.MaxLength)
            {
                throw new DicomRenderException(DicomRenderError.InvalidAttribute, $"a frame of {info.FrameLength} bytes is too large to render");
            }
            buffer.Write(chunk, 0, read);
        }
        return RenderFrame(info, buffer.GetBuffer().AsSpan(0, (int)buffer.Length), options);
    }

    /// <summary>Renders a frame and writes it as a baseline JPEG.</summary>
    public static void RenderJpeg(DicomDataset dataset, Stream output, RenderOptions? options = null, JpegEncoderOptions? jpeg = null) =>
        Render(dataset, options).EncodeJpeg(output, jpeg);

    /// <summary>The pipeline on validated attributes and one frame's bytes.</summary>
    public static RenderedImage RenderFrame(DicomImageInfo info, ReadOnlySpan<byte> frame, RenderOptions options)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(options);
        if (frame.Length < info.FrameLength)
        {
            throw new DicomRenderException(DicomRenderError.TruncatedPixelData,
                $"frame has {frame.Length} bytes, {info.Rows}x{info.Columns} {info.PhotometricInterpretation} at {info.BitsAllocated} bits needs {info.FrameLength}");
        }
        if ((long)info.Rows * info.Columns * 3 > Array.MaxLength)
        {
            throw new DicomRenderException(DicomRenderError.InvalidAttribute, $"{info.Columns}x{info.Rows} is too large to render");
        }
        if (options.MaxWidth is < 1 || options.MaxHeight is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MaxWidth/MaxHeight must be positive");
        }
        frame = frame[..(int)info.FrameLength];
        var image = info.IsMonochrome ? RenderMonochrome(info, frame, options) : RenderColour(info, frame, options.SourceBigEndian);
        return ImageResizer.Fit(image, options.MaxWidth, options.MaxHeight);
    }

    private static RenderedImage RenderMonochrome(DicomImageInfo info, ReadOnlySpan<byte> frame, RenderOptions options)
    {
        var n = info.Rows * info.Columns;
        var shift = info.HighBit + 1 - info.BitsStored;
        var mask = (1 << info.BitsStored) - 1;
        var pixels = new byte[n];
        if (info.BitsAllocated == 8)
        {
            var lut = BuildLut(info, ChooseWindow(info, options, NeedsMinMax(info, options) ? MinMax(info, frame[..n], shift, mask) : default));
            for (var i = 0; i < n; i++)
            {
                pixels[i] = lut[(frame[i] >> shift) & mask];
            }
        }
        else
        {
            // 16-bit samples in host order (little endian), swapped once when the source is big endian.
            ReadOnlySpan<ushort> words = MemoryMarshal.Cast<byte, ushort>(frame[..(2 * n)]);
            ushort[]? swapped = null;
            if (options.SourceBigEndian == BitConverter.IsLittleEndian)
            {
                swapped = new ushort[n];
                BinaryPrimitives.ReverseEndianness(words, swapped);
                words = swapped;
            }
            var lut = BuildLut(info, ChooseWindow(info, options, NeedsMinMax(info, options) ? MinMax(info, words, shift, mask) : default));
            for (var i = 0; i < n; i++)
            {
                pixels[i] = lut[(words[i] >> shift) & mask];
            }
        }
        return new RenderedImage(info.Columns, info.Rows, 1, pixels);
    }

    private static (int Min, int Max) MinMax<T>(DicomImageInfo info, ReadOnlySpan<T> samples, int shift, int mask) where T : unmanaged, System.Numerics.IBinaryInteger<T>
    {
        int lo = int.MaxValue, hi = int.MinValue;
        foreach (var s in samples)
        {
            var v = StoredValue(info, (int.CreateTruncating(s) >> shift) & mask);
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }
        return (lo, hi);
    }

    /// <summary>Stored value of an unsigned bit pattern (two's complement when Pixel Representation is 1).</summary>
    private static int StoredValue(DicomImageInfo info, int code) =>
        info.Signed && (code & (1 << (info.BitsStored - 1))) != 0 ? code - (1 << info.BitsStored) : code;

    private static bool NeedsMinMax(DicomImageInfo info, RenderOptions options) =>
        options.Window is null && (info.Windows.Count == 0 || options.MinMaxWindow);

    /// <summary>The window to apply; <paramref name="storedRange"/> is the frame's stored min/max when <see cref="NeedsMinMax"/>.</summary>
    private static VoiWindow ChooseWindow(DicomImageInfo info, RenderOptions options, (int Min, int Max) storedRange)
    {
        if (options.Window is { } w)
        {
            if (!double.IsFinite(w.Center) || !double.IsFinite(w.Width) || w.Width < (w.Function == VoiLutFunction.Linear ? 1 : double.Epsilon))
            {
                throw new ArgumentOutOfRangeException(nameof(options), $"window width {w.Width} (must be >= 1 for LINEAR, > 0 otherwise)");
            }
            return w;
        }
        if (info.Windows.Count > 0 && !options.MinMaxWindow)
        {
            return info.Windows[Math.Clamp(options.HeaderWindowIndex, 0, info.Windows.Count - 1)];
        }
        // No window: the frame's range after rescale; center (min+max+1)/2, width max−min+1 maps min to 0 and max to 255 (DCMTK's +Wm).
        var (lo, hi) = storedRange;
        var a = lo * info.RescaleSlope + info.RescaleIntercept;
        var b = hi * info.RescaleSlope + info.RescaleIntercept;
        var min = Math.Min(a, b);
        var max = Math.Max(a, b);
        return new VoiWindow((min + max + 1) / 2, max - min + 1);
    }

    /// <summary>Stored bit pattern → output byte: rescale, VOI function, polarity; truncation to the integer below, as DCMTK.</summary>
    private static byte[] BuildLut(DicomImageInfo info, VoiWindow w)
    {
        var size = 1 << info.BitsStored;
        var lut = new byte[size];
        var invert = info.PhotometricInterpretation == "MONOCHROME1";
        for (var code = 0; code < size; code++)
        {
            var x = StoredValue(info, code) * info.RescaleSlope + info.RescaleIntercept;
            var y = Voi(x, w);
            // MONOCHROME1: minimum white; inverted before truncation, as DCMTK does.
            // 1e-9 absorbs rounding error below an exact integer (e.g. 6.9999999999 for 7).
            lut[code] = (byte)Math.Clamp((int)Math.Floor((invert ? 255 - y : y) + 1e-9), 0, 255);
        }
        return lut;
    }

    /// <summary>VOI LUT functions of PS3.3 C.11.2.1.2.1 and C.11.2.1.3 with y_min = 0, y_max = 255.</summary>
    public static double Voi(double x, VoiWindow w)
    {
        double c = w.Center, width = w.Width;
        switch (w.Function)
        {
            case VoiLutFunction.LinearExact:
                if (x <= c - width / 2)
                {
                    return 0;
                }
                return x > c + width / 2 ? 255 : ((x - c) / width + 0.5) * 255;
            case VoiLutFunction.Sigmoid:
                return 255 / (1 + Math.Exp(-4 * (x - c) / width));
            default:
                if (x <= c - 0.5 - (width - 1) / 2)
                {
                    return 0;
                }
                // ((x − (c − 0.5)) / (w − 1) + 0.5) · 255 rearranged as (x − lower) / (w − 1) · 255, which is exact
                // for integer x at the ends of a min/max window (the printed form gives 6.9999… for 7).
                var lower = c - 0.5 - (width - 1) / 2;
                return x > c - 0.5 + (width - 1) / 2 ? 255 : (x - lower) / (width - 1) * 255;
        }
    }

    private static RenderedImage RenderColour(DicomImageInfo info, ReadOnlySpan<byte> frame, bool bigEndian)
    {
        var n = info.Rows * info.Columns;
        var rgb = new byte[n * 3];
        if (info.PhotometricInterpretation == "YBR_FULL_422")
        {
            // PS3.3 C.7.6.3.1.2: Y1 Y2 Cb Cr per horizontal pair of pixels (Columns is even).
            var cols = info.Columns;
            for (var r = 0; r < info.Rows; r++)
            {
                for (var x = 0; x < cols; x++)
                {
                    var p = r * cols * 2 + x / 2 * 4;
                    if (p + 3 >= frame.Length)
                    {
                        throw new DicomRenderException(DicomRenderError.TruncatedPixelData, "YBR_FULL_422 frame shorter than its pixel pairs");
                    }
                    YbrToRgb(frame[p + (x & 1)], frame[p + 2], frame[p + 3], rgb.AsSpan((r * cols + x) * 3, 3));
                }
            }
            return new RenderedImage(info.Columns, info.Rows, 3, rgb);
        }
        var wide = info.BitsAllocated == 16;
        var shift = info.HighBit + 1 - info.BitsStored;
        var mask = (1 << info.BitsStored) - 1;
        // Down to 8 bits: the top 8 of the stored bits (identity for 8-bit data).
        var down = Math.Max(0, info.BitsStored - 8);
        var bytesPerSample = info.BitsAllocated / 8;
        var ybr = info.PhotometricInterpretation == "YBR_FULL";
        Span<byte> px = stackalloc byte[3];
        for (var i = 0; i < n; i++)
        {
            for (var s = 0; s < 3; s++)
            {
                // Planar configuration 0: R1 G1 B1 R2 …; 1: all R, then all G, then all B (PS3.3 C.7.6.3.1.3).
                var index = info.PlanarConfiguration == 0 ? i * 3 + s : s * n + i;
                int raw = wide
                    ? bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(frame.Slice(index * bytesPerSample)) : BinaryPrimitives.ReadUInt16LittleEndian(frame.Slice(index * bytesPerSample))
                    : frame[index];
                px[s] = (byte)((((raw >> shift) & mask) >> down) & 0xFF);
            }
            if (ybr)
            {
                YbrToRgb(px[0], px[1], px[2], rgb.AsSpan(i * 3, 3));
            }
            else
            {
                px.CopyTo(rgb.AsSpan(i * 3, 3));
            }
        }
        return new RenderedImage(info.Columns, info.Rows, 3, rgb);
    }

    /// <summary>YCbCr full range to RGB (PS3.3 C.7.6.3.1.2, the inverse of its YBR_FULL equations), rounded and clamped.</summary>
    private static void YbrToRgb(byte y, byte cb, byte cr, Span<byte> rgb)
    {
        double Y = y, Cb = cb - 128.0, Cr = cr - 128.0;
        rgb[0] = Clamp(Y + 1.402 * Cr);
        rgb[1] = Clamp(Y - 0.344136 * Cb - 0.714136 * Cr);
        rgb[2] = Clamp(Y + 1.772 * Cb);
    }

    private static byte Clamp(double v) => (byte)Math.Clamp((int)Math.Round(v, MidpointRounding.AwayFromZero), 0, 255);
}
