using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EventSourced.Dicom;

/// <summary>Options for DICOM JSON (PS3.18 Annex F).</summary>
public sealed record DicomJsonOptions
{
    /// <summary>Binary values (OB, OW, OF, OD, OL, OV, UN, encapsulated pixel data) longer than this are not inlined.</summary>
    public long BulkDataThreshold { get; init; } = long.MaxValue;

    /// <summary>
    /// Builds the BulkDataURI for a value above the threshold (or passed over while reading). Returning null,
    /// or leaving this unset, drops the value: the attribute is written with its VR only.
    /// </summary>
    public Func<DicomElement, string?>? BulkDataUri { get; init; }

    public static DicomJsonOptions Default { get; } = new();
}

/// <summary>
/// Streams a data set as DICOM JSON (PS3.18 §F.2) straight to a <see cref="Utf8JsonWriter"/>, with no
/// intermediate tree. Nesting is walked with an explicit stack.
/// </summary>
public static class DicomJsonWriter
{
    /// <summary>Three JSON levels (attribute, Value array, item) per DICOM nesting level the reader allows.</summary>
    public const int MaxJsonDepth = 3 * 4096 + 8;

    /// <summary>Parses DICOM JSON as deep as this writer writes it (System.Text.Json's default stops at 64 levels).</summary>
    public static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxJsonDepth };

    /// <summary>Reads DICOM JSON token by token as deep as this writer writes it.</summary>
    public static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = MaxJsonDepth };

    /// <summary>A validating writer (the default encoder) of DICOM JSON as deep as this writer writes it: answers that show stored headers whole.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { MaxDepth = MaxJsonDepth };

    public static string Serialize(DicomDataset dataset, DicomJsonOptions? options = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true, MaxDepth = MaxJsonDepth, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(w, dataset, options);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Write(Utf8JsonWriter writer, DicomDataset dataset, DicomJsonOptions? options = null)
    {
        options ??= DicomJsonOptions.Default;
        // (dataset, next element index, item list, next item index) per level.
        var stack = new Stack<(DicomDataset Ds, int Index, List<DicomDataset>? Items, int ItemIndex)>();
        writer.WriteStartObject();
        stack.Push((dataset, 0, null, 0));
        Span<byte> key = stackalloc byte[8];
        while (stack.Count > 0)
        {
            var (ds, index, items, itemIndex) = stack.Pop();
            if (items is not null)
            {
                // Returning from an item: start the next one or close the sequence.
                if (itemIndex < items.Count)
                {
                    stack.Push((ds, index, items, itemIndex + 1));
                    writer.WriteStartObject();
                    stack.Push((items[itemIndex], 0, null, 0));
                    continue;
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
                continue;
            }
            if (index >= ds.Count)
            {
                writer.WriteEndObject();
                continue;
            }
            var e = ds.Elements[index];
            stack.Push((ds, index + 1, null, 0));
            if (e.Tag.Element == 0x0000)
            {
                // Group length elements are left out, as dcm2json does; outside group 0002 they are retired (PS3.5 §7.2).
                continue;
            }
            Hex8(e.Tag.Value, key);
            writer.WritePropertyName(key);
            writer.WriteStartObject();
            writer.WriteString("vr"u8, DicomVRInfo.Code(e.VR));
            if (e.VR == DicomVR.SQ)
            {
                if (e.Items is { Count: > 0 } list)
                {
                    writer.WritePropertyName("Value"u8);
                    writer.WriteStartArray();
                    stack.Push((ds, index + 1, list, 0));
                    continue;
                }
                writer.WriteEndObject();
                continue;
            }
            WriteValue(writer, e, options);
            writer.WriteEndObject();
        }
    }

    private static void Hex8(uint v, Span<byte> dst)
    {
        const string hex = "0123456789ABCDEF";
        for (var i = 7; i >= 0; i--)
        {
            dst[i] = (byte)hex[(int)(v & 0xF)];
            v >>= 4;
        }
    }

    private static bool IsBinary(DicomVR vr) => vr is DicomVR.OB or DicomVR.OW or DicomVR.OF or DicomVR.OD or DicomVR.OL or DicomVR.OV or DicomVR.UN;

    private static void WriteValue(Utf8JsonWriter w, DicomElement e, DicomJsonOptions options)
    {
        if (e.BulkDataUri is not null)
        {
            // Read from JSON as a reference: hand it on unless the caller maps it anew.
            w.WriteString("BulkDataURI"u8, options.BulkDataUri?.Invoke(e) ?? e.BulkDataUri);
            return;
        }
        if (e.Fragments is not null || e.BulkData is not null || IsBinary(e.VR))
        {
            WriteBinary(w, e, options);
            return;
        }
        if (e.RawValue.IsEmpty)
        {
            return;
        }
        switch (e.VR)
        {
            case DicomVR.PN:
                var names = DicomValues.GetStrings(e).Select(DicomPersonName.Parse).Select(p => p.WithoutTrailingEmptyComponents()).ToArray();
                if (names.All(n => n.IsEmpty))
                {
                    return;
                }
                w.WritePropertyName("Value"u8);
                w.WriteStartArray();
                foreach (var pn in names)
                {
                    if (pn.IsEmpty)
                    {
                        w.WriteNullValue();
                        continue;
                    }
                    // PS3.18 §F.2.2: one object per name, one member per non-empty component group.
                    w.WriteStartObject();
                    if (pn.Alphabetic.Length > 0)
                    {
                        w.WriteString("Alphabetic"u8, pn.Alphabetic);
                    }
                    if (pn.Ideographic.Length > 0)
                    {
                        w.WriteString("Ideographic"u8, pn.Ideographic);
                    }
                    if (pn.Phonetic.Length > 0)
                    {
                        w.WriteString("Phonetic"u8, pn.Phonetic);
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                return;
            case DicomVR.IS or DicomVR.DS when TryWriteAsciiValues(w, e):
                return;
            case DicomVR.IS or DicomVR.DS:
                w.WritePropertyName("Value"u8);
                w.WriteStartArray();
                foreach (var v in DicomValues.GetStrings(e))
                {
                    WriteNumberString(w, v, e.VR == DicomVR.IS);
                }
                w.WriteEndArray();
                return;
            case DicomVR.AT:
                w.WritePropertyName("Value"u8);
                w.WriteStartArray();
                Span<byte> hex = stackalloc byte[8];
                foreach (var t in DicomValues.GetTags(e))
                {
                    Hex8(t.Value, hex);
                    w.WriteStringValue(hex);
                }
                w.WriteEndArray();
                return;
            case DicomVR.US: WriteNumbers<ushort>(w, e, static (w, v) => w.WriteNumberValue(v)); return;
            case DicomVR.SS: WriteNumbers<short>(w, e, static (w, v) => w.WriteNumberValue(v)); return;
            case DicomVR.UL: WriteNumbers<uint>(w, e, static (w, v) => w.WriteNumberValue(v)); return;
            case DicomVR.SL: WriteNumbers<int>(w, e, static (w, v) => w.WriteNumberValue(v)); return;
            case DicomVR.UV: WriteNumbers<ulong>(w, e, static (w, v) => w.WriteNumberValue(v)); return;
            case DicomVR.SV: WriteNumbers<long>(w, e, static (w, v) => w.WriteNumberValue(v)); return;
            case DicomVR.FL: WriteNumbers<float>(w, e, static (w, v) => WriteFloat(w, v)); return;
            case DicomVR.FD: WriteNumbers<double>(w, e, static (w, v) => WriteFloat(w, v)); return;
            default:
                if (TryWriteAsciiValues(w, e))
                {
                    return;
                }
                w.WritePropertyName("Value"u8);
                w.WriteStartArray();
                foreach (var v in DicomValues.GetStrings(e))
                {
                    if (v.Length == 0)
                    {
                        w.WriteNullValue(); // empty value among several (PS3.18 §F.2.5)
                    }
                    else
                    {
                        w.WriteStringValue(v);
                    }
                }
                w.WriteEndArray();
                return;
        }
    }

    /// <summary>JSON cannot hold NaN or infinities: they are written as strings, as PS3.18 §F.2.3 allows for values JSON cannot represent.</summary>
    private static void WriteFloat(Utf8JsonWriter w, double v)
    {
        if (double.IsFinite(v))
        {
            w.WriteNumberValue(v);
        }
        else
        {
            w.WriteStringValue(v.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void WriteNumbers<T>(Utf8JsonWriter w, DicomElement e, Action<Utf8JsonWriter, T> write) where T : unmanaged
    {
        var values = DicomValues.GetBinary<T>(e);
        if (values.Length == 0)
        {
            return;
        }
        w.WritePropertyName("Value"u8);
        w.WriteStartArray();
        foreach (var v in values)
        {
            write(w, v);
        }
        w.WriteEndArray();
    }

    /// <summary>
    /// IS/DS are JSON numbers (PS3.18 §F.2.3). Text that is already a valid JSON number is written as is
    /// (no precision change); other parseable forms ("+5", "007", "5.", ".5") are re-formatted; text that is not
    /// a number at all is kept as a string rather than lost.
    /// </summary>
    private static void WriteNumberString(Utf8JsonWriter w, string v, bool integer)
    {
        if (v.Length == 0)
        {
            w.WriteNullValue();
            return;
        }
        if (IsJsonNumber(v))
        {
            w.WriteRawValue(v, skipInputValidation: true);
            return;
        }
        if (integer && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            w.WriteNumberValue(l);
        }
        else if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            w.WriteNumberValue(d);
        }
        else
        {
            w.WriteStringValue(v);
        }
    }

    /// <summary>
    /// Fast path for the common case: a value of plain ASCII without escape sequences decodes to the same
    /// characters under every supported character set, so it is split, trimmed and written as UTF-8 bytes
    /// without making strings. Same trimming rules as <see cref="DicomValues.GetStrings(DicomElement)"/>.
    /// </summary>
    private static bool TryWriteAsciiValues(Utf8JsonWriter w, DicomElement e)
    {
        var span = e.RawValue.Span;
        if (!System.Text.Ascii.IsValid(span) || span.Contains((byte)0x1B))
        {
            return false;
        }
        var multi = DicomVRInfo.IsMultiValuedString(e.VR);
        var trimStart = e.VR is not (DicomVR.LT or DicomVR.ST or DicomVR.UT or DicomVR.UR or DicomVR.UC or DicomVR.PN);
        var number = e.VR is DicomVR.IS or DicomVR.DS;
        if (number)
        {
            for (var rest = span; ;)
            {
                var cut = rest.IndexOf((byte)'\\');
                var part = Trim(cut < 0 ? rest : rest[..cut], true);
                if (part.Length > 0 && !IsJsonNumber(part))
                {
                    return false;
                }
                if (cut < 0)
                {
                    break;
                }
                rest = rest[(cut + 1)..];
            }
        }
        w.WritePropertyName("Value"u8);
        w.WriteStartArray();
        for (var rest = span; ;)
        {
            var cut = multi ? rest.IndexOf((byte)'\\') : -1;
            var part = Trim(cut < 0 ? rest : rest[..cut], trimStart);
            if (part.Length == 0)
            {
                w.WriteNullValue();
            }
            else if (number)
            {
                w.WriteRawValue(part, skipInputValidation: true);
            }
            else
            {
                w.WriteStringValue(part);
            }
            if (cut < 0)
            {
                break;
            }
            rest = rest[(cut + 1)..];
        }
        w.WriteEndArray();
        return true;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> s, bool start)
    {
        s = s.TrimEnd("\0 "u8);
        return start ? s.TrimStart("\0 "u8) : s;
    }

    /// <summary>RFC 8259 §6 number grammar.</summary>
    private static bool IsJsonNumber(string s)
    {
        Span<byte> b = stackalloc byte[64];
        return s.Length <= 64 && System.Text.Ascii.IsValid(s) && IsJsonNumber(b[..System.Text.Encoding.ASCII.GetBytes(s, b)]);
    }

    private static bool IsJsonNumber(ReadOnlySpan<byte> s)
    {
        var i = 0;
        if (i < s.Length && s[i] == (byte)'-')
        {
            i++;
        }
        if (i >= s.Length || !char.IsAsciiDigit((char)s[i]))
        {
            return false;
        }
        if (s[i] == (byte)'0')
        {
            i++;
        }
        else
        {
            while (i < s.Length && char.IsAsciiDigit((char)s[i]))
            {
                i++;
            }
        }
        if (i < s.Length && s[i] == (byte)'.')
        {
            i++;
            if (i >= s.Length || !char.IsAsciiDigit((char)s[i]))
            {
                return false;
            }
            while (i < s.Length && char.IsAsciiDigit((char)s[i]))
            {
                i++;
            }
        }
        if (i < s.Length && (s[i] == (byte)'e' || s[i] == (byte)'E'))
        {
            i++;
            if (i < s.Length && (s[i] == (byte)'+' || s[i] == (byte)'-'))
            {
                i++;
            }
            if (i >= s.Length || !char.IsAsciiDigit((char)s[i]))
            {
                return false;
            }
            while (i < s.Length && char.IsAsciiDigit((char)s[i]))
            {
                i++;
            }
        }
        return i == s.Length;
    }

    private static void WriteBinary(Utf8JsonWriter w, DicomElement e, DicomJsonOptions options)
    {
        var length = e.Fragments is not null ? EncapsulatedLength(e.Fragments) : e.Length;
        var skipped = e.BulkData is not null || (e.Fragments?.Fragments.Any(f => f.Reference is not null) ?? false);
        if (skipped || length > options.BulkDataThreshold)
        {
            if (options.BulkDataUri?.Invoke(e) is { } uri)
            {
                w.WriteString("BulkDataURI"u8, uri);
            }
            return;
        }
        if (length == 0)
        {
            return;
        }
        if (e.Fragments is not null)
        {
            // The value field of encapsulated pixel data: its items and the sequence delimiter (PS3.5 §A.4).
            var bytes = new byte[length];
            WriteEncapsulated(e.Fragments, bytes);
            w.WriteBase64String("InlineBinary"u8, bytes);
            return;
        }
        w.WriteBase64String("InlineBinary"u8, e.RawValue.Span);
    }

    internal static long EncapsulatedLength(DicomFragmentSequence f) =>
        8 + f.OffsetTable.Length + f.Fragments.Sum(x => 8 + x.Length) + 8;

    internal static void WriteEncapsulated(DicomFragmentSequence f, Span<byte> dst)
    {
        var pos = 0;
        void Item(ReadOnlySpan<byte> data, Span<byte> d)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d[pos..], 0xE000FFFE);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d[(pos + 4)..], (uint)data.Length);
            data.CopyTo(d[(pos + 8)..]);
            pos += 8 + data.Length;
        }
        Item(f.OffsetTable.Data.Span, dst);
        foreach (var x in f.Fragments)
        {
            Item(x.Data.Span, dst);
        }
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(dst[pos..], 0xE0DDFFFE);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(dst[(pos + 4)..], 0);
    }
}
