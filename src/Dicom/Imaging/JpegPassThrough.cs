namespace EventSourced.Dicom.Imaging;

/// <summary>
/// Frames of encapsulated pixel data (PS3.5 §A.4) served as they are: for JPEG Baseline
/// (1.2.840.10008.1.2.4.50) a frame's fragments concatenated are a complete JFIF/JPEG stream
/// (PS3.5 §8.2.1) that can go out as image/jpeg when no resizing or windowing is asked.
/// </summary>
public static class JpegPassThrough
{
    public const string JpegBaselineUid = "1.2.840.10008.1.2.4.50";

    public static bool IsJpegBaseline(string? transferSyntaxUid) => transferSyntaxUid?.TrimEnd('\0', ' ') == JpegBaselineUid;

    /// <summary>The JPEG bytes of frame <paramref name="frame"/> (zero-based) of a JPEG Baseline instance whose Pixel Data was loaded.</summary>
    public static byte[] GetFrame(DicomFile file, int frame)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!IsJpegBaseline(file.TransferSyntax.Uid))
        {
            throw new DicomRenderException(DicomRenderError.UnsupportedTransferSyntax,
                $"transfer syntax {file.TransferSyntax.Uid} is not JPEG Baseline ({JpegBaselineUid})");
        }
        var fragments = GetFrameFragments(file.Dataset, frame);
        var length = fragments.Sum(f => f.Length);
        if (length > Array.MaxLength)
        {
            throw new DicomRenderException(DicomRenderError.InvalidEncapsulation, $"frame of {length} bytes");
        }
        var bytes = new byte[length];
        var at = 0;
        foreach (var f in fragments)
        {
            if (f.Reference is not null)
            {
                throw new DicomRenderException(DicomRenderError.PixelDataNotLoaded,
                    "fragments were passed over (streaming read): read them from the blob with GetFrameFragments' references");
            }
            f.Data.Span.CopyTo(bytes.AsSpan(at));
            at += f.Data.Length;
        }
        if (bytes.Length < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8)
        {
            throw new DicomRenderException(DicomRenderError.InvalidEncapsulation, $"frame {frame} does not start with a JPEG SOI marker");
        }
        return bytes;
    }

    /// <summary>
    /// The fragments holding frame <paramref name="frame"/> (zero-based), loaded or referenced. Frames are found
    /// by the Extended Offset Table, else the Basic Offset Table, else one fragment per frame when the counts
    /// agree, else (loaded fragments) by the JPEG SOI marker starting each frame's first fragment.
    /// </summary>
    public static IReadOnlyList<DicomFragment> GetFrameFragments(DicomDataset dataset, int frame)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var pixelData = dataset.Find(DicomTag.PixelData)
            ?? throw new DicomRenderException(DicomRenderError.NoPixelData, "no Pixel Data (7FE0,0010)");
        var seq = pixelData.Fragments
            ?? throw new DicomRenderException(DicomRenderError.UnsupportedTransferSyntax, "Pixel Data is native, not encapsulated");
        var fragments = seq.Fragments;
        if (fragments.Count == 0)
        {
            throw new DicomRenderException(DicomRenderError.NoPixelData, "encapsulated Pixel Data without fragments");
        }
        long frames = 1;
        try
        {
            var nf = dataset.GetIntegerStrings(ImagingTags.NumberOfFrames);
            frames = nf.Length > 0 ? nf[0] : 1;
        }
        catch (DicomFormatException e)
        {
            throw new DicomRenderException(DicomRenderError.InvalidAttribute, $"Number of Frames: {e.Problem}", e);
        }
        if (frames < 1 || frame < 0 || frame >= frames)
        {
            throw new DicomRenderException(DicomRenderError.FrameOutOfRange, $"frame {frame} (zero-based) requested, the instance has {frames}");
        }
        if (frames == 1)
        {
            return fragments;
        }
        var starts = FrameStarts(dataset, seq, (int)frames);
        var end = frame + 1 < starts.Length ? starts[frame + 1] : fragments.Count;
        return fragments.GetRange(starts[frame], end - starts[frame]);
    }

    /// <summary>Index of each frame's first fragment.</summary>
    private static int[] FrameStarts(DicomDataset dataset, DicomFragmentSequence seq, int frames)
    {
        var fragments = seq.Fragments;
        var offsets = dataset.GetExtendedOffsets();
        if (offsets.Length == 0)
        {
            offsets = [.. seq.BasicOffsets().Select(o => (ulong)o)];
        }
        if (offsets.Length == frames)
        {
            // Offsets count from the first fragment's item tag; each fragment takes 8 header bytes + its length.
            var position = new Dictionary<ulong, int>();
            ulong at = 0;
            for (var i = 0; i < fragments.Count; i++)
            {
                position[at] = i;
                at += 8 + (ulong)fragments[i].Length;
            }
            var starts = new int[frames];
            for (var f = 0; f < frames; f++)
            {
                if (!position.TryGetValue(offsets[f], out starts[f]) || (f > 0 && starts[f] <= starts[f - 1]))
                {
                    throw new DicomRenderException(DicomRenderError.InvalidEncapsulation, $"offset table entry {f} ({offsets[f]}) is not a fragment boundary");
                }
            }
            return starts;
        }
        if (fragments.Count == frames)
        {
            return [.. Enumerable.Range(0, frames)];
        }
        var soi = new List<int>();
        for (var i = 0; i < fragments.Count; i++)
        {
            var d = fragments[i].Data.Span;
            if (fragments[i].Reference is null && d.Length >= 2 && d[0] == 0xFF && d[1] == 0xD8)
            {
                soi.Add(i);
            }
        }
        if (soi.Count == frames && soi[0] == 0)
        {
            return [.. soi];
        }
        throw new DicomRenderException(DicomRenderError.InvalidEncapsulation,
            $"{fragments.Count} fragments cannot be assigned to {frames} frames without an offset table");
    }
}
