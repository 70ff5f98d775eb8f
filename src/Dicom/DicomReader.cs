using System.Buffers.Binary;
using System.IO.Compression;

namespace EventSourced.Dicom;

/// <summary>Reading options. The defaults load everything.</summary>
public sealed record DicomReadOptions
{
    /// <summary>Values longer than this are passed over and reported as <see cref="DicomBulkDataReference"/> (streaming ingestion).</summary>
    public long? BulkDataThreshold { get; init; }

    /// <summary>Pass over Pixel Data (7FE0,0010) whatever its size; fragments are recorded by offset and length.</summary>
    public bool SkipPixelData { get; init; }

    /// <summary>Guard against hostile nesting; each level costs a small heap frame, never stack.</summary>
    public int MaxDepth { get; init; } = 4096;

    public static DicomReadOptions Default { get; } = new();

    /// <summary>Header only: Pixel Data and anything above 64 KiB are referenced, not loaded.</summary>
    public static DicomReadOptions Streaming { get; } = new() { SkipPixelData = true, BulkDataThreshold = 64 * 1024 };
}

/// <summary>A Part 10 file (PS3.10 §7.1) or bare data set as read.</summary>
public sealed class DicomFile
{
    public DicomFile(DicomDataset meta, DicomDataset dataset, DicomTransferSyntax transferSyntax)
    {
        Meta = meta;
        Dataset = dataset;
        TransferSyntax = transferSyntax;
    }

    /// <summary>File Meta Information (group 0002); empty when the input had none.</summary>
    public DicomDataset Meta { get; }
    public DicomDataset Dataset { get; }
    public DicomTransferSyntax TransferSyntax { get; }

    /// <summary>True when the input began with the 128-byte preamble and "DICM" (PS3.10 §7.1).</summary>
    public bool HadPreamble { get; init; }

    public static DicomFile Open(string path, DicomReadOptions? options = null)
    {
        if (options?.BulkDataThreshold is null && options?.SkipPixelData != true)
        {
            return DicomReader.Read(File.ReadAllBytes(path), options);
        }
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return DicomReader.Read(fs, options);
    }
}

/// <summary>
/// Part 10 / data set decoder (PS3.5 §7, PS3.10 §7). Nesting is handled with an explicit heap
/// stack of frames, so depth never costs call stack.
/// </summary>
public static class DicomReader
{
    private const uint Undefined = 0xFFFFFFFF;

    public static DicomFile Read(ReadOnlyMemory<byte> data, DicomReadOptions? options = null) =>
        Read(new ByteSource(data), options ?? DicomReadOptions.Default);

    /// <summary>Reads from a forward-only stream; with a bulk threshold or SkipPixelData large values are never held.</summary>
    public static DicomFile Read(Stream stream, DicomReadOptions? options = null)
    {
        using var src = new ByteSource(stream);
        return Read(src, options ?? DicomReadOptions.Default);
    }

    private static DicomFile Read(ByteSource src, DicomReadOptions options)
    {
        var hadPreamble = false;
        if (src.Ensure(132) && src.Peek(132)[128..].SequenceEqual("DICM"u8))
        {
            src.Skip(132, default);
            hadPreamble = true;
        }
        else if (src.Ensure(4) && src.Peek(4).SequenceEqual("DICM"u8))
        {
            src.Skip(4, default);
        }
        var meta = new DicomDataset();
        if (src.Ensure(8) && BinaryPrimitives.ReadUInt16LittleEndian(src.Peek(2)) == 0x0002)
        {
            ReadMeta(src, meta, options);
        }
        DicomTransferSyntax ts;
        var tsElement = meta.Find(DicomTag.TransferSyntaxUID);
        if (tsElement is not null && DicomValues.GetString(tsElement) is { Length: > 0 } uid)
        {
            ts = DicomTransferSyntax.FromUid(uid);
        }
        else
        {
            ts = Detect(src);
        }
        var dataset = new DicomDataset();
        if (ts.Deflated)
        {
            // PS3.5 §A.5: the data set after the meta group is a raw deflate stream (RFC 1951).
            var start = src.Position;
            using var inflated = new DeflateStream(src.RestAsStream(), CompressionMode.Decompress);
            try
            {
                using var inner = new ByteSource(inflated, start);
                ReadDataset(inner, dataset, ts, options);
            }
            catch (InvalidDataException ex)
            {
                throw new DicomFormatException("corrupt deflate stream: " + ex.Message, start, null, ex);
            }
        }
        else
        {
            ReadDataset(src, dataset, ts, options);
        }
        return new DicomFile(meta, dataset, ts) { HadPreamble = hadPreamble };
    }

    /// <summary>
    /// File Meta Information is always explicit VR little endian (PS3.10 §7.1). Group length may be
    /// absent or wrong, so group 0002 is read element by element while the group number says so, as DCMTK does.
    /// </summary>
    private static void ReadMeta(ByteSource src, DicomDataset meta, DicomReadOptions options)
    {
        var explicitVR = src.Ensure(6) && DicomVRInfo.FromBytes(src.Peek(6)[4], src.Peek(6)[5]) != DicomVR.None;
        while (src.Ensure(8) && BinaryPrimitives.ReadUInt16LittleEndian(src.Peek(2)) == 0x0002)
        {
            var (tag, vr, length, offset) = ReadHeader(src, explicitVR, false);
            if (length == Undefined)
            {
                throw new DicomFormatException("undefined length in file meta information", offset, tag);
            }
            meta.Set(new DicomElement(tag, vr, src.Read(length, tag)));
        }
        _ = options;
    }

    /// <summary>
    /// Works out the encoding of a data set without a (usable) meta group from its first element:
    /// a valid VR at bytes 4–5 means explicit VR, a zero first byte with a non-zero second means big endian.
    /// </summary>
    private static DicomTransferSyntax Detect(ByteSource src)
    {
        if (!src.Ensure(8))
        {
            return DicomTransferSyntax.ExplicitVRLittleEndian;
        }
        var p = src.Peek(8);
        var explicitVR = DicomVRInfo.FromBytes(p[4], p[5]) != DicomVR.None;
        var bigEndian = p[0] == 0 && p[1] != 0;
        return (explicitVR, bigEndian) switch
        {
            (true, true) => DicomTransferSyntax.ExplicitVRBigEndian,
            (true, false) => DicomTransferSyntax.ExplicitVRLittleEndian,
            _ => DicomTransferSyntax.ImplicitVRLittleEndian,
        };
    }

    private static (DicomTag Tag, DicomVR VR, uint Length, long Offset) ReadHeader(ByteSource src, bool explicitVR, bool bigEndian)
    {
        var offset = src.Position;
        if (!src.Ensure(8))
        {
            throw new DicomFormatException("input ends inside an element header", offset, null);
        }
        var group = src.U16(bigEndian);
        var element = src.U16(bigEndian);
        var tag = new DicomTag(group, element);
        if (group == 0xFFFE)
        {
            // Item and delimitation tags never carry a VR (PS3.5 §7.5).
            return (tag, DicomVR.None, src.U32(bigEndian), offset);
        }
        if (!explicitVR)
        {
            return (tag, DicomDictionary.ImplicitVR(tag), src.U32(bigEndian), offset);
        }
        var a = src.U8();
        var b = src.U8();
        var vr = DicomVRInfo.FromBytes(a, b);
        if (vr == DicomVR.None)
        {
            // Unknown VR: DCMTK assumes a 2-byte length and treats the value as UN.
            return (tag, DicomVR.UN, src.U16(bigEndian), offset);
        }
        if (DicomVRInfo.HasShortLength(vr))
        {
            return (tag, vr, src.U16(bigEndian), offset);
        }
        // OB, OW, SQ, UN, UT, … : 2 reserved bytes then a 32-bit length (PS3.5 Table 7.1-1).
        if (!src.Ensure(6))
        {
            throw new DicomFormatException("input ends inside an element header", offset, tag);
        }
        src.U16(bigEndian);
        return (tag, vr, src.U32(bigEndian), offset);
    }

    private sealed class Frame
    {
        public DicomDataset? Dataset;      // data set or item being filled
        public DicomElement? Sequence;     // sequence awaiting items
        public long End = -1;              // absolute end for defined length, -1 for undefined / EOF
        public bool ExplicitVR;
        public bool BigEndian;
        public bool IsItem;
    }

    private static void ReadDataset(ByteSource src, DicomDataset root, DicomTransferSyntax ts, DicomReadOptions options)
    {
        var stack = new Stack<Frame>();
        stack.Push(new Frame { Dataset = root, ExplicitVR = ts.ExplicitVR, BigEndian = ts.BigEndian });
        while (stack.Count > 0)
        {
            var f = stack.Peek();
            if (f.End >= 0 && src.Position >= f.End)
            {
                if (src.Position > f.End)
                {
                    throw new DicomFormatException($"element overruns its enclosing {(f.Sequence is null ? "item" : "sequence")} by {src.Position - f.End} bytes", src.Position, f.Sequence?.Tag);
                }
                stack.Pop();
                continue;
            }
            if (stack.Count == 1 && !src.Ensure(1))
            {
                break; // end of the top-level data set
            }
            if (!src.Ensure(1))
            {
                throw new DicomFormatException(f.Sequence is not null ? "input ends inside a sequence" : "input ends inside an item", src.Position, f.Sequence?.Tag);
            }
            if (stack.Count == 1 && src.Buffered < 8 && !src.Ensure(8))
            {
                // Trailing padding shorter than an element header is tolerated, as DCMTK does.
                var rest = src.Peek(src.Buffered);
                if (rest.IndexOfAnyExcept((byte)0) < 0)
                {
                    break;
                }
                throw new DicomFormatException("input ends inside an element header", src.Position, null);
            }
            var (tag, vr, length, offset) = ReadHeader(src, f.ExplicitVR, f.BigEndian);

            if (f.Sequence is not null)
            {
                if (tag == DicomTag.Item)
                {
                    // Two frames (sequence, item) per nesting level.
                    if ((stack.Count + 1) / 2 > options.MaxDepth)
                    {
                        throw new DicomFormatException($"nesting deeper than {options.MaxDepth}", offset, f.Sequence.Tag);
                    }
                    var item = new DicomDataset(f.Dataset);
                    f.Sequence.Items!.Add(item);
                    var end = length == Undefined ? -1 : src.Position + length;
                    end = CheckWithin(stack, end, offset, tag, src);
                    stack.Push(new Frame { Dataset = item, End = end, ExplicitVR = f.ExplicitVR, BigEndian = f.BigEndian, IsItem = true });
                }
                else if (tag == DicomTag.SequenceDelimitationItem)
                {
                    stack.Pop();
                }
                else
                {
                    throw new DicomFormatException($"expected an item in sequence {f.Sequence.Tag}, found {tag}", offset, tag);
                }
                continue;
            }

            var ds = f.Dataset!;
            if (tag.Group == 0xFFFE)
            {
                if (tag == DicomTag.ItemDelimitationItem && f.IsItem)
                {
                    stack.Pop();
                }
                else if (tag == DicomTag.SequenceDelimitationItem && f.IsItem && f.End < 0)
                {
                    // Item not closed before its sequence: DCMTK closes both.
                    stack.Pop();
                    stack.Pop();
                }
                else if (stack.Count == 1 && tag != DicomTag.Item)
                {
                    // Stray delimiter at top level: DCMTK ignores it.
                }
                else
                {
                    throw new DicomFormatException($"unexpected {tag} in a data set", offset, tag);
                }
                continue;
            }

            if (!f.ExplicitVR && vr == DicomVR.UN && tag.IsPrivate && tag.Element >= 0x1000)
            {
                vr = PrivateVR(ds, tag);
            }
            if (!f.ExplicitVR && vr == DicomVR.US && tag.Group == 0x0028 && DicomDictionary.Lookup(tag)?.AlternateVR == DicomVR.SS
                && ds.Find(DicomTag.PixelRepresentation) is { RawValue.Length: >= 2 } pr && pr.RawValue.Span[0] == 1)
            {
                // US or SS ("xs") follows Pixel Representation (PS3.3 C.7.6.3.1), as DCMTK decides it.
                vr = DicomVR.SS;
            }
            var isSequence = vr == DicomVR.SQ
                || (length == Undefined && tag != DicomTag.PixelData && (vr == DicomVR.UN || !f.ExplicitVR));
            var childExplicit = f.ExplicitVR;
            var childBig = f.BigEndian;
            if (vr == DicomVR.UN && f.ExplicitVR)
            {
                // PS3.5 §6.2.2: a UN value is little-endian implicit VR; where the dictionary knows the
                // tag, the value is re-interpreted with the dictionary VR.
                var known = tag.IsPrivate ? DicomVR.UN : DicomDictionary.ImplicitVR(tag);
                if (length == Undefined || known == DicomVR.SQ)
                {
                    isSequence = true;
                    childExplicit = false;
                    childBig = false;
                }
                else if (known != DicomVR.UN)
                {
                    vr = known;
                }
            }
            if (isSequence)
            {
                var seq = new DicomElement(tag, DicomVR.SQ, ReadOnlyMemory<byte>.Empty) { Items = [] };
                ds.Set(seq);
                var end = length == Undefined ? -1 : src.Position + length;
                end = CheckWithin(stack, end, offset, tag, src);
                stack.Push(new Frame { Dataset = ds, Sequence = seq, End = end, ExplicitVR = childExplicit, BigEndian = childBig });
                continue;
            }
            if (length == Undefined)
            {
                if (tag == DicomTag.PixelData || tag.Group == 0x7FE0)
                {
                    ds.Set(ReadEncapsulated(src, tag, vr, f.BigEndian, options));
                    continue;
                }
                throw new DicomFormatException($"undefined length for VR {DicomVRInfo.Code(vr)}", offset, tag);
            }
            if (f.End >= 0 && src.Position + length > f.End)
            {
                throw new DicomFormatException($"value length {length} runs past the end of the enclosing item", offset, tag);
            }
            DicomElement el;
            if ((options.SkipPixelData && tag == DicomTag.PixelData) || length > options.BulkDataThreshold)
            {
                var at = src.Position;
                src.Skip(length, tag);
                el = new DicomElement(tag, vr, ReadOnlyMemory<byte>.Empty) { BulkData = new DicomBulkDataReference(at, length) };
            }
            else
            {
                var value = src.Read(length, tag);
                if (f.BigEndian && DicomVRInfo.BinaryUnitSize(vr) > 1)
                {
                    value = Swap(value.Span, DicomVRInfo.BinaryUnitSize(vr));
                }
                el = new DicomElement(tag, vr, value);
            }
            ds.Set(el);
        }
    }

    /// <summary>Implicit VR private element: the VR its creator's dictionary gives (DCMTK private.dic), else UN.</summary>
    private static DicomVR PrivateVR(DicomDataset ds, DicomTag tag)
    {
        var creator = ds.Find(new DicomTag(tag.Group, (ushort)(tag.Element >> 8)));
        if (creator is null || creator.RawValue.IsEmpty)
        {
            return DicomVR.UN;
        }
        var name = System.Text.Encoding.Latin1.GetString(creator.RawValue.Span).TrimEnd(' ', '\0');
        var entry = DicomPrivateDictionary.Lookup(tag.Group, name, (byte)tag.Element);
        return entry is null || entry.VR == DicomVR.None ? DicomVR.UN : entry.VR;
    }

    /// <summary>
    /// A nested defined length that overruns its parent is clipped to the parent's end, as DCMTK does
    /// (seen in DICOMDIRs whose records lost elements); one that overruns the input is an error.
    /// </summary>
    private static long CheckWithin(Stack<Frame> stack, long end, long offset, DicomTag tag, ByteSource src)
    {
        var parent = stack.Peek();
        if (end >= 0 && parent.End >= 0 && end > parent.End)
        {
            end = parent.End;
        }
        if (end >= 0 && src.KnownRemaining is { } rem && end - src.Position > rem)
        {
            throw new DicomFormatException($"length {end - src.Position} exceeds the {rem} bytes left", offset, tag);
        }
        return end;
    }

    /// <summary>Encapsulated pixel data (PS3.5 §A.4): items of defined length, the first the Basic Offset Table, closed by a sequence delimiter.</summary>
    private static DicomElement ReadEncapsulated(ByteSource src, DicomTag tag, DicomVR vr, bool bigEndian, DicomReadOptions options)
    {
        var frags = new DicomFragmentSequence();
        var first = true;
        var offsetTable = new DicomFragment(ReadOnlyMemory<byte>.Empty);
        while (true)
        {
            var (t, _, length, offset) = ReadHeader(src, true, bigEndian);
            if (t == DicomTag.SequenceDelimitationItem)
            {
                break;
            }
            if (t != DicomTag.Item)
            {
                throw new DicomFormatException($"expected a fragment item in encapsulated pixel data, found {t}", offset, tag);
            }
            if (length == Undefined)
            {
                throw new DicomFormatException("fragment of undefined length", offset, tag);
            }
            DicomFragment fragment;
            if (!first && (options.SkipPixelData || length > options.BulkDataThreshold))
            {
                var at = src.Position;
                src.Skip(length, tag);
                fragment = new DicomFragment(new DicomBulkDataReference(at, length));
            }
            else
            {
                fragment = new DicomFragment(src.Read(length, tag));
            }
            if (first)
            {
                offsetTable = fragment;
                first = false;
            }
            else
            {
                frags.Fragments.Add(fragment);
            }
        }
        var result = new DicomFragmentSequence { OffsetTable = offsetTable };
        result.Fragments.AddRange(frags.Fragments);
        return new DicomElement(tag, vr, ReadOnlyMemory<byte>.Empty) { Fragments = result };
    }

    private static byte[] Swap(ReadOnlySpan<byte> value, int unit)
    {
        var copy = value.ToArray();
        var n = copy.Length - copy.Length % unit;
        for (var i = 0; i < n; i += unit)
        {
            copy.AsSpan(i, unit).Reverse();
        }
        return copy;
    }
}
