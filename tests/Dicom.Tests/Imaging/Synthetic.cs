using System.Buffers.Binary;
using System.Globalization;

namespace EventSourced.Dicom.Tests.Imaging;

/// <summary>Variants of corpus files written with our writer to temporary files, for DCMTK to render too.</summary>
internal static class Synthetic
{
    public static DicomFile Load(string corpusFile) => DicomFile.Open(ImagingOracles.Corpus(corpusFile));

    public static void SetUs(DicomDataset ds, uint tag, int value)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
        ds.Set(new DicomElement(new DicomTag(tag), DicomVR.US, b));
    }

    public static void SetText(DicomDataset ds, uint tag, DicomVR vr, params string[] values) => ds.AddString(new DicomTag(tag), vr, values);

    public static void SetDs(DicomDataset ds, uint tag, params double[] values) =>
        SetText(ds, tag, DicomVR.DS, [.. values.Select(v => v.ToString("G10", CultureInfo.InvariantCulture))]);

    public static void SetPixels(DicomDataset ds, byte[] pixels, DicomVR vr = DicomVR.OW) =>
        ds.Set(new DicomElement(DicomTag.PixelData, vr, pixels));

    /// <summary>Writes the data set as Explicit VR Little Endian to a temporary file (deleted by the caller).</summary>
    public static string Write(DicomFile source, DicomDataset dataset)
    {
        var path = Path.Combine(Path.GetTempPath(), $"imaging-{Guid.NewGuid():N}.dcm");
        File.WriteAllBytes(path, DicomWriter.ToBytes(new DicomFile(source.Meta, dataset, DicomTransferSyntax.ExplicitVRLittleEndian)));
        return path;
    }

    public static ushort[] Words(ReadOnlySpan<byte> b)
    {
        var w = new ushort[b.Length / 2];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = BinaryPrimitives.ReadUInt16LittleEndian(b[(2 * i)..]);
        }
        return w;
    }

    public static byte[] Bytes(ReadOnlySpan<ushort> w)
    {
        var b = new byte[w.Length * 2];
        for (var i = 0; i < w.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2 * i), w[i]);
        }
        return b;
    }
}
