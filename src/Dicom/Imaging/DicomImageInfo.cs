using System.Globalization;

namespace EventSourced.Dicom.Imaging;

/// <summary>VOI LUT Function (0028,1056), PS3.3 C.11.2.1.3.</summary>
public enum VoiLutFunction
{
    /// <summary>PS3.3 C.11.2.1.2.1: the default.</summary>
    Linear,

    /// <summary>PS3.3 C.11.2.1.3.2.</summary>
    LinearExact,

    /// <summary>PS3.3 C.11.2.1.3.1.</summary>
    Sigmoid,
}

/// <summary>A VOI window (Window Center / Width, PS3.3 C.11.2.1.2) in modality units (after rescale).</summary>
public readonly record struct VoiWindow(double Center, double Width, VoiLutFunction Function = VoiLutFunction.Linear);

/// <summary>
/// What the renderer needs from the Image Pixel (PS3.3 C.7.6.3), Multi-frame, Modality LUT (C.11.1)
/// and VOI LUT (C.11.2) modules, validated: <see cref="FromDataset"/> throws
/// <see cref="DicomRenderException"/> for what cannot be rendered.
/// </summary>
public sealed record DicomImageInfo
{
    public required int Rows { get; init; }
    public required int Columns { get; init; }
    public required int SamplesPerPixel { get; init; }
    public required string PhotometricInterpretation { get; init; }
    public required int BitsAllocated { get; init; }
    public required int BitsStored { get; init; }
    public required int HighBit { get; init; }
    public required bool Signed { get; init; }
    /// <summary>0 = colour-by-pixel (R1G1B1R2…), 1 = colour-by-plane (R…G…B…).</summary>
    public required int PlanarConfiguration { get; init; }
    public required int NumberOfFrames { get; init; }
    public double RescaleSlope { get; init; } = 1;
    public double RescaleIntercept { get; init; }
    /// <summary>Window Center/Width pairs from the header (first one is the default), with the header's VOI LUT Function.</summary>
    public IReadOnlyList<VoiWindow> Windows { get; init; } = [];

    public bool IsMonochrome => PhotometricInterpretation is "MONOCHROME1" or "MONOCHROME2";

    /// <summary>Bytes of one frame of native pixel data: Rows × Columns × Samples per Pixel × Bits Allocated / 8 (YBR_FULL_422: two samples per pixel, PS3.3 C.7.6.3.1.2).</summary>
    public long FrameLength => (long)Rows * Columns * (PhotometricInterpretation == "YBR_FULL_422" ? 2 : SamplesPerPixel) * (BitsAllocated / 8);

    /// <summary>Where frame <paramref name="frame"/> (zero-based) starts within the native Pixel Data value: add the value's offset in the file to read it from a blob.</summary>
    public long FrameOffset(int frame)
    {
        CheckFrame(frame);
        return frame * FrameLength;
    }

    internal void CheckFrame(int frame)
    {
        if (frame < 0 || frame >= NumberOfFrames)
        {
            throw new DicomRenderException(DicomRenderError.FrameOutOfRange, $"frame {frame} (zero-based) requested, the instance has {NumberOfFrames}");
        }
    }

    public static DicomImageInfo FromDataset(DicomDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var rows = RequiredUs(dataset, ImagingTags.Rows, "Rows");
        var columns = RequiredUs(dataset, ImagingTags.Columns, "Columns");
        if (rows == 0 || columns == 0)
        {
            throw Invalid($"image of {rows} rows × {columns} columns");
        }
        var spp = OptionalUs(dataset, ImagingTags.SamplesPerPixel) ?? 1;
        var pi = (Text(dataset, ImagingTags.PhotometricInterpretation) ?? (spp == 1 ? "MONOCHROME2" : "")).ToUpperInvariant();
        var expectedSpp = pi switch
        {
            "MONOCHROME1" or "MONOCHROME2" => 1,
            "RGB" or "YBR_FULL" or "YBR_FULL_422" => 3,
            _ => throw new DicomRenderException(DicomRenderError.UnsupportedPhotometricInterpretation, $"Photometric Interpretation '{pi}' is not supported"),
        };
        if (spp != expectedSpp)
        {
            throw Invalid($"Samples per Pixel {spp} with Photometric Interpretation {pi}");
        }
        var ba = RequiredUs(dataset, ImagingTags.BitsAllocated, "Bits Allocated");
        if (ba is not (8 or 16))
        {
            throw new DicomRenderException(DicomRenderError.UnsupportedBitDepth, $"Bits Allocated {ba} is not supported (8 or 16)");
        }
        var bs = OptionalUs(dataset, ImagingTags.BitsStored) ?? ba;
        var hb = OptionalUs(dataset, ImagingTags.HighBit) ?? bs - 1;
        if (bs < 1 || bs > ba || hb < bs - 1 || hb >= ba)
        {
            throw Invalid($"Bits Stored {bs} / High Bit {hb} impossible with Bits Allocated {ba}");
        }
        if (pi == "YBR_FULL_422" && ba != 8)
        {
            throw new DicomRenderException(DicomRenderError.UnsupportedBitDepth, "YBR_FULL_422 is supported with 8 bits only");
        }
        if (pi == "YBR_FULL_422" && columns % 2 != 0)
        {
            throw Invalid("YBR_FULL_422 with an odd number of columns");
        }
        var pr = OptionalUs(dataset, ImagingTags.PixelRepresentation) ?? 0;
        if (pr > 1)
        {
            throw Invalid($"Pixel Representation {pr}");
        }
        var planar = spp == 3 ? OptionalUs(dataset, ImagingTags.PlanarConfiguration) ?? 0 : 0;
        if (planar > 1 || (planar == 1 && pi == "YBR_FULL_422"))
        {
            throw Invalid($"Planar Configuration {planar} with {pi}");
        }
        long frames = 1;
        try
        {
            var nf = dataset.GetIntegerStrings(ImagingTags.NumberOfFrames);
            if (nf.Length > 0)
            {
                frames = nf[0];
            }
        }
        catch (DicomFormatException e)
        {
            throw Invalid($"Number of Frames: {e.Problem}", e);
        }
        if (frames is < 1 or > int.MaxValue)
        {
            throw Invalid($"Number of Frames {frames}");
        }
        double slope = 1, intercept = 0;
        try
        {
            var s = dataset.GetDecimalStrings(ImagingTags.RescaleSlope);
            var i = dataset.GetDecimalStrings(ImagingTags.RescaleIntercept);
            slope = s.Length > 0 ? s[0] : 1;
            intercept = i.Length > 0 ? i[0] : 0;
        }
        catch (DicomFormatException e)
        {
            throw Invalid($"Rescale Slope/Intercept: {e.Problem}", e);
        }
        if (!double.IsFinite(slope) || !double.IsFinite(intercept) || slope == 0)
        {
            throw Invalid($"Rescale Slope {slope} / Intercept {intercept}");
        }
        return new DicomImageInfo
        {
            Rows = rows,
            Columns = columns,
            SamplesPerPixel = spp,
            PhotometricInterpretation = pi,
            BitsAllocated = ba,
            BitsStored = bs,
            HighBit = hb,
            Signed = pr == 1,
            PlanarConfiguration = planar,
            NumberOfFrames = (int)frames,
            RescaleSlope = slope,
            RescaleIntercept = intercept,
            Windows = expectedSpp == 1 ? HeaderWindows(dataset) : [],
        };
    }

    /// <summary>Window Center/Width pairs (VM may be &gt; 1; pairs are matched by index). Unparsable or non-positive widths are ignored, as DCMTK does.</summary>
    private static List<VoiWindow> HeaderWindows(DicomDataset dataset)
    {
        double[] centers, widths;
        try
        {
            centers = dataset.GetDecimalStrings(ImagingTags.WindowCenter);
            widths = dataset.GetDecimalStrings(ImagingTags.WindowWidth);
        }
        catch (DicomFormatException)
        {
            return [];
        }
        var function = (Text(dataset, ImagingTags.VoiLutFunction) ?? "LINEAR").ToUpperInvariant() switch
        {
            "LINEAR_EXACT" => VoiLutFunction.LinearExact,
            "SIGMOID" => VoiLutFunction.Sigmoid,
            _ => VoiLutFunction.Linear,
        };
        var list = new List<VoiWindow>();
        for (var i = 0; i < Math.Min(centers.Length, widths.Length); i++)
        {
            if (double.IsFinite(centers[i]) && double.IsFinite(widths[i]) && widths[i] >= (function == VoiLutFunction.Linear ? 1 : double.Epsilon))
            {
                list.Add(new VoiWindow(centers[i], widths[i], function));
            }
        }
        return list;
    }

    private static DicomRenderException Invalid(string message, Exception? inner = null) =>
        new(DicomRenderError.InvalidAttribute, message, inner);

    private static string? Text(DicomDataset ds, DicomTag tag) => ds.Find(tag) is { } e ? DicomValues.GetString(e).Trim() : null;

    private static int RequiredUs(DicomDataset ds, DicomTag tag, string name) =>
        OptionalUs(ds, tag) ?? throw Invalid($"{name} {tag} missing");

    /// <summary>US value; tolerates a value written as IS text (seen in old files with wrong VRs).</summary>
    private static int? OptionalUs(DicomDataset ds, DicomTag tag)
    {
        var e = ds.Find(tag);
        if (e is null || e.RawValue.Length == 0)
        {
            return null;
        }
        if (e.VR is DicomVR.IS or DicomVR.DS or DicomVR.LO or DicomVR.SH or DicomVR.CS)
        {
            return int.TryParse(DicomValues.GetString(e), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v is >= 0 and <= 65535
                ? v
                : throw Invalid($"{tag} is not an unsigned short");
        }
        return e.RawValue.Length >= 2 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(e.RawValue.Span) : throw Invalid($"{tag} is shorter than an unsigned short");
    }
}
