using System.Buffers.Binary;
using EventSourced.Application.Blobs;
using EventSourced.Dicom;
using EventSourced.Dicom.Imaging;

namespace EventSourced.Application.Retrieval;

/// <summary>Why a frame or bulk data value cannot be served.</summary>
public enum StoredValueError
{
    /// <summary>The instance has no Pixel Data, or no element at the bulk data path (404).</summary>
    NotFound,

    /// <summary>A frame number beyond Number of Frames (404, PS3.18 §10.4.1.1.4).</summary>
    FrameOutOfRange,

    /// <summary>The stored instance's pixel attributes or encapsulation do not allow cutting it into frames (422).</summary>
    Unprocessable,
}

public sealed class StoredValueException(StoredValueError error, string message) : Exception(message)
{
    public StoredValueError Error { get; } = error;
}

/// <summary>
/// A stored instance opened for WADO-RS frame and bulk data retrieval (PS3.18 §10.4.1.1.4–5): the header is
/// read from the blob in streaming mode (Pixel Data and values above 64 KiB passed over and recorded by offset),
/// and only the bytes asked for are read, at their offsets. Nothing is decoded or transcoded: native frames go out
/// as stored (little endian; a big-endian instance's words are swapped into Explicit VR Little Endian order, which
/// is a byte reordering, not a transcoding of the pixel values), encapsulated frames go out as their fragments.
/// </summary>
public sealed class StoredPixelData : IAsyncDisposable
{
    /// <summary>Explicit VR Little Endian, the syntax of uncompressed bulk data (PS3.18 §8.7.3.3.2).</summary>
    public const string ExplicitVrLittleEndian = "1.2.840.10008.1.2.1";

    /// <summary>Instances read whole (the deflated syntax, whose offsets are positions in the inflated stream) are bounded.</summary>
    private const long MaxWholeRead = 256L * 1024 * 1024;

    private readonly Stream blob;
    private readonly DicomFile file;

    private StoredPixelData(Stream blob, DicomFile file)
    {
        this.blob = blob;
        this.file = file;
    }

    public DicomDataset Dataset => file.Dataset;

    /// <summary>The transfer syntax the instance is stored in.</summary>
    public string StoredTransferSyntax => file.TransferSyntax.Uid.TrimEnd('\0', ' ');

    public bool HasPixelData => PixelData is not null;

    /// <summary>Whether Pixel Data is encapsulated (a compressed transfer syntax, PS3.5 §A.4).</summary>
    public bool Encapsulated => PixelData?.Fragments is not null;

    /// <summary>The transfer syntax of the frames as served: the stored one for encapsulated data, Explicit VR Little Endian for native data.</summary>
    public string FrameTransferSyntax => Encapsulated ? StoredTransferSyntax : ExplicitVrLittleEndian;

    private DicomElement? PixelData => file.Dataset.Find(DicomTag.PixelData);

    public static async Task<StoredPixelData> OpenAsync(IBlobStore blobs, string sha256, CancellationToken cancellation)
    {
        var blob = blobs.OpenRead(sha256) ?? throw new FileNotFoundException($"Blob {sha256} is missing.");
        try
        {
            var file = DicomReader.Read(blob, DicomReadOptions.Streaming);
            if (file.TransferSyntax.Deflated)
            {
                if (blob.Length > MaxWholeRead)
                {
                    throw new StoredValueException(StoredValueError.Unprocessable, "the deflated instance is too large to read whole");
                }

                blob.Seek(0, SeekOrigin.Begin);
                var bytes = new byte[blob.Length];
                await blob.ReadExactlyAsync(bytes, cancellation);
                file = DicomReader.Read(bytes);
            }

            return new StoredPixelData(blob, file);
        }
        catch
        {
            await blob.DisposeAsync();
            throw;
        }
    }

    /// <summary>Number of Frames (0028,0008), 1 when absent.</summary>
    public int NumberOfFrames
    {
        get
        {
            try
            {
                var values = file.Dataset.GetIntegerStrings(ImagingTags.NumberOfFrames);
                return values.Length == 0 ? 1 : values[0] is >= 1 and <= int.MaxValue ? (int)values[0] : throw Invalid($"Number of Frames {values[0]}");
            }
            catch (DicomFormatException e)
            {
                throw Invalid($"Number of Frames: {e.Problem}");
            }
        }
    }

    /// <summary>Checks that every frame number (1-based) exists, before anything is written.</summary>
    public void CheckFrames(IEnumerable<int> frames)
    {
        if (PixelData is null)
        {
            throw new StoredValueException(StoredValueError.NotFound, "The instance has no Pixel Data (7FE0,0010).");
        }

        var count = NumberOfFrames;
        if (frames.FirstOrDefault(f => f < 1 || f > count) is var bad and not 0)
        {
            throw new StoredValueException(StoredValueError.FrameOutOfRange, $"Frame {bad} requested; the instance has {count} frame(s).");
        }
    }

    /// <summary>The bytes of one frame (1-based): a native frame in little-endian order, or an encapsulated frame's fragments joined.</summary>
    public async Task<byte[]> ReadFrameAsync(int frame, CancellationToken cancellation)
    {
        CheckFrames([frame]);
        var pixelData = PixelData!;
        if (pixelData.Fragments is not null)
        {
            IReadOnlyList<DicomFragment> fragments;
            try
            {
                fragments = JpegPassThrough.GetFrameFragments(file.Dataset, frame - 1);
            }
            catch (DicomRenderException e)
            {
                throw Invalid(e.Message);
            }

            var length = fragments.Sum(f => f.Length);
            if (length > Array.MaxLength)
            {
                throw Invalid($"frame of {length} bytes");
            }

            var bytes = new byte[length];
            var at = 0;
            foreach (var fragment in fragments)
            {
                at += await ReadAsync(fragment.Reference, fragment.Data, bytes.AsMemory(at, (int)fragment.Length), cancellation);
            }

            return bytes;
        }

        var frameLength = NativeFrameLength();
        var offset = (frame - 1) * frameLength;
        if (offset + frameLength > pixelData.Length)
        {
            throw Invalid($"Pixel Data holds {pixelData.Length} bytes, frame {frame} would end at byte {offset + frameLength}");
        }

        var frameBytes = new byte[frameLength];
        if (pixelData.BulkData is { } reference)
        {
            await ReadAtAsync(reference.Offset + offset, frameBytes, cancellation);
            SwapIfBigEndian(frameBytes, SwapWidth(pixelData.VR));
        }
        else
        {
            pixelData.RawValue.Span.Slice((int)offset, (int)frameLength).CopyTo(frameBytes);
        }

        return frameBytes;
    }

    /// <summary>
    /// The element at a bulk data path (tags and 1-based item numbers, e.g. <c>7FE00010</c> or
    /// <c>00540016/1/00181072</c>) when it holds a binary value; null when there is none.
    /// </summary>
    public DicomElement? Find(IReadOnlyList<string> path)
    {
        var dataset = file.Dataset;
        for (var i = 0; i < path.Count; i += 2)
        {
            if (path[i].Length != 8 || !uint.TryParse(path[i], System.Globalization.NumberStyles.HexNumber, null, out var tag))
            {
                return null;
            }

            var element = dataset.Find(new DicomTag(tag));
            if (i == path.Count - 1)
            {
                return element;
            }

            if (element?.Items is not { } items || i + 1 >= path.Count - 1
                || !int.TryParse(path[i + 1], System.Globalization.NumberStyles.None, null, out var item) || item < 1 || item > items.Count)
            {
                return null;
            }

            dataset = items[item - 1];
        }

        return null;
    }

    /// <summary>
    /// Writes a non-sequence, non-encapsulated value in little-endian order to <paramref name="output"/>, read from the
    /// stored file in 1 MiB pieces (a whole native Pixel Data of many frames is never held in memory).
    /// </summary>
    public async Task CopyValueAsync(DicomElement element, Stream output, CancellationToken cancellation)
    {
        if (element.BulkData is not { } reference)
        {
            await output.WriteAsync(element.RawValue, cancellation);
            return;
        }

        if (reference.Offset < 0 || reference.Offset + reference.Length > blob.Length)
        {
            throw Invalid("a value reaches beyond the end of the stored file");
        }

        var width = SwapWidth(element.VR);
        var buffer = new byte[1 << 20]; // a multiple of every swap width
        blob.Seek(reference.Offset, SeekOrigin.Begin);
        for (var left = reference.Length; left > 0;)
        {
            var piece = (int)Math.Min(buffer.Length, left);
            await blob.ReadExactlyAsync(buffer.AsMemory(0, piece), cancellation);
            SwapIfBigEndian(buffer.AsSpan(0, piece), width);
            await output.WriteAsync(buffer.AsMemory(0, piece), cancellation);
            left -= piece;
        }
    }

    public ValueTask DisposeAsync() => blob.DisposeAsync();

    private async Task<int> ReadAsync(DicomBulkDataReference? reference, ReadOnlyMemory<byte> loaded, Memory<byte> into, CancellationToken cancellation)
    {
        if (reference is { } r)
        {
            await ReadAtAsync(r.Offset, into, cancellation);
        }
        else
        {
            loaded.CopyTo(into);
        }

        return into.Length;
    }

    private async Task ReadAtAsync(long offset, Memory<byte> into, CancellationToken cancellation)
    {
        if (offset < 0 || offset + into.Length > blob.Length)
        {
            throw Invalid("a value reaches beyond the end of the stored file");
        }

        blob.Seek(offset, SeekOrigin.Begin);
        await blob.ReadExactlyAsync(into, cancellation);
    }

    /// <summary>Rows × Columns × samples × bytes per sample (YBR_FULL_422 stores two samples per pixel, PS3.3 §C.7.6.3.1.2).</summary>
    private long NativeFrameLength()
    {
        try
        {
            return NativeFrameLengthOrThrow();
        }
        catch (DicomFormatException e)
        {
            throw Invalid(e.Problem);
        }
    }

    private long NativeFrameLengthOrThrow()
    {
        var rows = (long)(file.Dataset.GetValue<ushort>(ImagingTags.Rows) ?? 0);
        var columns = (long)(file.Dataset.GetValue<ushort>(ImagingTags.Columns) ?? 0);
        long samples = file.Dataset.GetValue<ushort>(ImagingTags.SamplesPerPixel) ?? 1;
        if (file.Dataset.GetString(ImagingTags.PhotometricInterpretation)?.Trim() == "YBR_FULL_422")
        {
            samples = 2;
        }

        var bits = rows * columns * samples * BitsAllocated();
        if (bits <= 0 || bits % 8 != 0)
        {
            throw Invalid($"frames of {rows} rows × {columns} columns × {samples} samples × {BitsAllocated()} bits are not whole bytes");
        }

        return bits / 8 <= Array.MaxLength ? bits / 8 : throw Invalid($"a frame of {bits / 8} bytes");
    }

    /// <summary>In Explicit VR Big Endian, OW is byte-swapped in 16-bit words whatever Bits Allocated says (PS3.5 §7.3); OB is a byte stream.</summary>
    private static int SwapWidth(DicomVR vr) => vr switch
    {
        DicomVR.OW or DicomVR.US or DicomVR.SS => 2,
        DicomVR.OF or DicomVR.OL or DicomVR.FL or DicomVR.UL or DicomVR.SL => 4,
        DicomVR.OD or DicomVR.OV or DicomVR.FD or DicomVR.UV or DicomVR.SV => 8,
        _ => 1,
    };

    private int BitsAllocated() => file.Dataset.GetValue<ushort>(ImagingTags.BitsAllocated) ?? 0;

    private void SwapIfBigEndian(Span<byte> bytes, int width)
    {
        if (!file.TransferSyntax.BigEndian || width == 1)
        {
            return;
        }

        for (var i = 0; i + width <= bytes.Length; i += width)
        {
            bytes.Slice(i, width).Reverse();
        }
    }

    private static StoredValueException Invalid(string message) => new(StoredValueError.Unprocessable, $"The stored instance cannot be cut into frames: {message}.");
}
