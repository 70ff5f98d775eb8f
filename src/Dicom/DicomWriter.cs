using System.Buffers.Binary;
using System.IO.Compression;

namespace EventSourced.Dicom;

/// <summary>Part 10 writing options.</summary>
public sealed record DicomWriteOptions
{
    /// <summary>
    /// Null keeps the source syntax when its pixel data is encapsulated (fragments pass through untouched)
    /// and otherwise writes Explicit VR Little Endian.
    /// </summary>
    public DicomTransferSyntax? TransferSyntax { get; init; }

    /// <summary>Sequences and items with undefined length and delimiters (PS3.5 §7.5.1) instead of computed lengths.</summary>
    public bool UndefinedLengthSequences { get; init; }

    public static DicomWriteOptions Default { get; } = new();
}

/// <summary>Encodes data sets as Part 10 files (PS3.10 §7.1, PS3.5 §7). Nesting is walked without recursion.</summary>
public static class DicomWriter
{
    /// <summary>Our Implementation Class UID (PS3.7 §D.3.3.2): a fixed UUID-derived UID (PS3.5 §B.2).</summary>
    public const string ImplementationClassUid = "2.25.255062519071621615543993246072227046960";

    /// <summary>Implementation Version Name, at most 16 characters (PS3.7 §D.3.3.2).</summary>
    public const string ImplementationVersionName = "ESDICOM_1_0";

    public static byte[] ToBytes(DicomFile file, DicomWriteOptions? options = null)
    {
        using var ms = new MemoryStream();
        Write(ms, file, options);
        return ms.ToArray();
    }

    public static void Write(Stream output, DicomFile file, DicomWriteOptions? options = null)
    {
        options ??= DicomWriteOptions.Default;
        var ts = options.TransferSyntax
                 ?? (file.TransferSyntax.Encapsulated ? file.TransferSyntax : DicomTransferSyntax.ExplicitVRLittleEndian);
        if (ts.BigEndian)
        {
            throw new NotSupportedException("Explicit VR Big Endian is retired (PS3.5 §A.3); it is read but not written");
        }
        if (!ts.Encapsulated && HasFragments(file.Dataset))
        {
            throw new NotSupportedException($"encapsulated pixel data cannot be written in {ts.Uid} without decompression");
        }
        var meta = BuildMeta(file, ts);
        // Preamble of 128 zero bytes and the DICM prefix (PS3.10 §7.1).
        output.Write(new byte[128]);
        output.Write("DICM"u8);
        var w = new Encoder(output, explicitVR: true, undefinedLengths: false);
        w.WriteDataset(meta);
        if (ts.Deflated)
        {
            // PS3.5 §A.5: everything after the meta group is raw deflate (RFC 1951).
            using var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true);
            new Encoder(deflate, ts.ExplicitVR, options.UndefinedLengthSequences).WriteDataset(file.Dataset);
        }
        else
        {
            new Encoder(output, ts.ExplicitVR, options.UndefinedLengthSequences).WriteDataset(file.Dataset);
        }
    }

    private static bool HasFragments(DicomDataset ds) => ds.Find(DicomTag.PixelData)?.Fragments is not null;

    /// <summary>File Meta Information (PS3.10 §7.1): our implementation identity, the syntax written, SOP class/instance from the data set.</summary>
    private static DicomDataset BuildMeta(DicomFile file, DicomTransferSyntax ts)
    {
        var meta = new DicomDataset();
        foreach (var e in file.Meta.Elements)
        {
            if (e.Tag.Group == 0x0002 && e.Tag.Element != 0)
            {
                meta.Set(new DicomElement(e.Tag, e.VR, e.RawValue));
            }
        }
        meta.Set(new DicomElement(DicomTag.FileMetaInformationVersion, DicomVR.OB, new byte[] { 0, 1 }));
        var sopClass = file.Dataset.GetString(DicomTag.SOPClassUID) ?? file.Meta.GetString(DicomTag.MediaStorageSOPClassUID);
        var sopInstance = file.Dataset.GetString(DicomTag.SOPInstanceUID) ?? file.Meta.GetString(DicomTag.MediaStorageSOPInstanceUID);
        if (!string.IsNullOrEmpty(sopClass))
        {
            meta.AddString(DicomTag.MediaStorageSOPClassUID, DicomVR.UI, sopClass);
        }
        if (!string.IsNullOrEmpty(sopInstance))
        {
            meta.AddString(DicomTag.MediaStorageSOPInstanceUID, DicomVR.UI, sopInstance);
        }
        meta.AddString(DicomTag.TransferSyntaxUID, DicomVR.UI, ts.Uid);
        meta.AddString(DicomTag.ImplementationClassUID, DicomVR.UI, ImplementationClassUid);
        meta.AddString(DicomTag.ImplementationVersionName, DicomVR.SH, ImplementationVersionName);
        var length = new Encoder(Stream.Null, true, false).Size(meta);
        var gl = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(gl, checked((uint)length));
        meta.Set(new DicomElement(DicomTag.FileMetaInformationGroupLength, DicomVR.UL, gl));
        return meta;
    }

    private sealed class Encoder(Stream output, bool explicitVR, bool undefinedLengths)
    {
        private readonly Dictionary<DicomDataset, long> _sizes = new(ReferenceEqualityComparer.Instance);
        private readonly byte[] _scratch = new byte[12];

        /// <summary>Encoded length of a data set, computed bottom-up with an explicit stack.</summary>
        public long Size(DicomDataset root)
        {
            if (_sizes.TryGetValue(root, out var known))
            {
                return known;
            }
            var stack = new Stack<(DicomDataset Ds, bool ChildrenDone)>();
            stack.Push((root, false));
            while (stack.Count > 0)
            {
                var (ds, done) = stack.Pop();
                if (_sizes.ContainsKey(ds))
                {
                    continue;
                }
                if (!done)
                {
                    stack.Push((ds, true));
                    foreach (var e in ds.Elements)
                    {
                        if (e.Items is null)
                        {
                            continue;
                        }
                        foreach (var item in e.Items)
                        {
                            if (!_sizes.ContainsKey(item))
                            {
                                stack.Push((item, false));
                            }
                        }
                    }
                    continue;
                }
                long total = 0;
                foreach (var e in ds.Elements)
                {
                    total += ElementSize(e);
                }
                _sizes[ds] = total;
            }
            return _sizes[root];
        }

        private long ElementSize(DicomElement e)
        {
            if (e.Items is not null)
            {
                long v = 0;
                foreach (var item in e.Items)
                {
                    v += 8 + _sizes[item] + (undefinedLengths ? 8 : 0);
                }
                return (explicitVR ? 12 : 8) + v + (undefinedLengths ? 8 : 0);
            }
            if (e.Fragments is not null)
            {
                return 12 + DicomJsonWriter.EncapsulatedLength(e.Fragments);
            }
            var vr = WireVR(e);
            var header = !explicitVR ? 8 : DicomVRInfo.HasShortLength(vr) ? 8 : 12;
            return header + Padded(e);
        }

        private static long Padded(DicomElement e) => (e.RawValue.Length + 1) & ~1L;

        /// <summary>A value too long for a 16-bit length field goes out as UN (PS3.5 §6.2.2).</summary>
        private DicomVR WireVR(DicomElement e) =>
            explicitVR && DicomVRInfo.HasShortLength(e.VR) && Padded(e) > 0xFFFF ? DicomVR.UN : e.VR;

        public void WriteDataset(DicomDataset root)
        {
            if (!undefinedLengths)
            {
                Size(root);
            }
            // (data set, next element index) frames; an item frame closes with an item delimiter if undefined.
            var stack = new Stack<(DicomDataset Ds, int Index, DicomElement? Seq, int Item)>();
            stack.Push((root, 0, null, -1));
            while (stack.Count > 0)
            {
                var (ds, index, seq, item) = stack.Pop();
                if (seq is not null)
                {
                    // Sequence frame: emit next item or close.
                    if (item < seq.Items!.Count)
                    {
                        stack.Push((ds, index, seq, item + 1));
                        var child = seq.Items[item];
                        Tag(0xFFFE, 0xE000);
                        U32(undefinedLengths ? 0xFFFFFFFF : checked((uint)_sizes[child]));
                        stack.Push((child, 0, null, 1));
                    }
                    else if (undefinedLengths)
                    {
                        Tag(0xFFFE, 0xE0DD);
                        U32(0);
                    }
                    continue;
                }
                if (index >= ds.Count)
                {
                    if (item == 1 && undefinedLengths)
                    {
                        Tag(0xFFFE, 0xE00D);
                        U32(0);
                    }
                    continue;
                }
                var e = ds.Elements[index];
                stack.Push((ds, index + 1, null, item));
                if (e.BulkDataUri is not null)
                {
                    throw new InvalidOperationException($"{e.Tag} holds only a BulkDataURI; fetch its value before writing Part 10");
                }
                if (e.BulkData is not null)
                {
                    throw new InvalidOperationException($"{e.Tag} was passed over while reading (streaming mode); its value is not available to write");
                }
                if (e.Items is not null)
                {
                    Header(e.Tag, DicomVR.SQ, undefinedLengths ? 0xFFFFFFFF : checked((uint)(ElementSize(e) - (explicitVR ? 12 : 8))));
                    stack.Push((ds, index + 1, e, 0));
                    continue;
                }
                if (e.Fragments is not null)
                {
                    WriteFragments(e);
                    continue;
                }
                var vr = WireVR(e);
                var len = Padded(e);
                Header(e.Tag, vr, checked((uint)len));
                output.Write(e.RawValue.Span);
                if (len != e.RawValue.Length)
                {
                    // Values have even length (PS3.5 §7.1.1); pad as the VR prescribes (PS3.5 §6.2).
                    output.WriteByte(DicomVRInfo.PaddingByte(e.VR));
                }
            }
        }

        private void WriteFragments(DicomElement e)
        {
            if (e.Fragments!.Fragments.Any(f => f.Reference is not null))
            {
                throw new InvalidOperationException($"{e.Tag} fragments were passed over while reading; they are not available to write");
            }
            // Encapsulated pixel data is OB whatever the source said (some writers use OW), undefined length, items, delimiter (PS3.5 §A.4).
            Header(e.Tag, DicomVR.OB, 0xFFFFFFFF);
            var buf = new byte[DicomJsonWriter.EncapsulatedLength(e.Fragments)];
            DicomJsonWriter.WriteEncapsulated(e.Fragments, buf);
            output.Write(buf);
        }

        private void Tag(ushort g, ushort el)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_scratch, g);
            BinaryPrimitives.WriteUInt16LittleEndian(_scratch.AsSpan(2), el);
            output.Write(_scratch, 0, 4);
        }

        private void U32(uint v)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_scratch, v);
            output.Write(_scratch, 0, 4);
        }

        private void Header(DicomTag tag, DicomVR vr, uint length)
        {
            Tag(tag.Group, tag.Element);
            if (!explicitVR)
            {
                U32(length);
                return;
            }
            _scratch[0] = (byte)((ushort)vr >> 8);
            _scratch[1] = (byte)vr;
            if (DicomVRInfo.HasShortLength(vr))
            {
                BinaryPrimitives.WriteUInt16LittleEndian(_scratch.AsSpan(2), (ushort)length);
                output.Write(_scratch, 0, 4);
                return;
            }
            _scratch[2] = 0;
            _scratch[3] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(_scratch.AsSpan(4), length);
            output.Write(_scratch, 0, 8);
        }
    }
}
