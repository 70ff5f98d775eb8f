using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EventSourced.Dicom;

/// <summary>
/// Reads DICOM JSON (PS3.18 §F.2) into a data set. Text is Unicode in JSON, so every data set that names a
/// Specific Character Set, and the top level when any text is not ASCII, is given ISO_IR 192 (UTF-8).
/// Malformed JSON or attributes raise <see cref="DicomFormatException"/> (offset: byte position unknown, -1).
/// </summary>
public static class DicomJsonReader
{
    public static DicomDataset Parse(string json) => Parse(Encoding.UTF8.GetBytes(json));

    public static DicomDataset Parse(ReadOnlyMemory<byte> utf8)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, DicomJsonWriter.DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new DicomFormatException("not JSON: " + ex.Message, ex.BytePositionInLine ?? -1, null, ex);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new DicomFormatException("DICOM JSON must be an object", -1, null);
            }
            var root = new DicomDataset();
            var nonAscii = false;
            var stack = new Stack<(JsonElement Json, DicomDataset Ds)>();
            stack.Push((doc.RootElement, root));
            while (stack.Count > 0)
            {
                var (json, ds) = stack.Pop();
                foreach (var prop in json.EnumerateObject())
                {
                    if (prop.Name.Length != 8 || !uint.TryParse(prop.Name, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var tagValue))
                    {
                        throw new DicomFormatException($"'{prop.Name}' is not a tag key", -1, null);
                    }
                    var tag = new DicomTag(tagValue);
                    var attr = prop.Value;
                    if (attr.ValueKind != JsonValueKind.Object || !attr.TryGetProperty("vr", out var vrJson) || vrJson.ValueKind != JsonValueKind.String)
                    {
                        throw new DicomFormatException("attribute without vr", -1, tag);
                    }
                    var vr = DicomVRInfo.Parse(vrJson.GetString()!);
                    if (vr == DicomVR.None)
                    {
                        throw new DicomFormatException($"unknown VR '{vrJson.GetString()}'", -1, tag);
                    }
                    if (vr == DicomVR.SQ)
                    {
                        var items = new List<DicomDataset>();
                        if (attr.TryGetProperty("Value", out var seq))
                        {
                            if (seq.ValueKind != JsonValueKind.Array)
                            {
                                throw new DicomFormatException("SQ Value must be an array", -1, tag);
                            }
                            foreach (var item in seq.EnumerateArray())
                            {
                                if (item.ValueKind != JsonValueKind.Object)
                                {
                                    throw new DicomFormatException("sequence item must be an object", -1, tag);
                                }
                                var child = new DicomDataset(ds);
                                items.Add(child);
                                stack.Push((item, child));
                            }
                        }
                        ds.Set(DicomElement.Sequence(tag, items));
                        continue;
                    }
                    var element = ReadAttribute(tag, vr, attr, ref nonAscii);
                    ds.Set(element);
                }
                if (ds.Contains(DicomTag.SpecificCharacterSet))
                {
                    ds.AddString(DicomTag.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
                }
            }
            if (nonAscii && !root.Contains(DicomTag.SpecificCharacterSet))
            {
                root.AddString(DicomTag.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
            }
            return root;
        }
    }

    private static DicomElement ReadAttribute(DicomTag tag, DicomVR vr, JsonElement attr, ref bool nonAscii)
    {
        try
        {
            if (attr.TryGetProperty("InlineBinary", out var inline))
            {
                return new DicomElement(tag, vr, inline.GetBytesFromBase64());
            }
            if (attr.TryGetProperty("BulkDataURI", out var uri))
            {
                return new DicomElement(tag, vr, ReadOnlyMemory<byte>.Empty) { BulkDataUri = uri.GetString() };
            }
            if (!attr.TryGetProperty("Value", out var values))
            {
                return new DicomElement(tag, vr, ReadOnlyMemory<byte>.Empty);
            }
            if (values.ValueKind != JsonValueKind.Array)
            {
                throw new DicomFormatException("Value must be an array", -1, tag);
            }
            switch (vr)
            {
                case DicomVR.US: return Binary(tag, vr, values, 2, (s, v) => BinaryPrimitives.WriteUInt16LittleEndian(s, v.GetUInt16()));
                case DicomVR.SS: return Binary(tag, vr, values, 2, (s, v) => BinaryPrimitives.WriteInt16LittleEndian(s, v.GetInt16()));
                case DicomVR.UL: return Binary(tag, vr, values, 4, (s, v) => BinaryPrimitives.WriteUInt32LittleEndian(s, v.GetUInt32()));
                case DicomVR.SL: return Binary(tag, vr, values, 4, (s, v) => BinaryPrimitives.WriteInt32LittleEndian(s, v.GetInt32()));
                case DicomVR.UV: return Binary(tag, vr, values, 8, (s, v) => BinaryPrimitives.WriteUInt64LittleEndian(s, v.ValueKind == JsonValueKind.String ? ulong.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetUInt64()));
                case DicomVR.SV: return Binary(tag, vr, values, 8, (s, v) => BinaryPrimitives.WriteInt64LittleEndian(s, v.ValueKind == JsonValueKind.String ? long.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetInt64()));
                case DicomVR.FL: return Binary(tag, vr, values, 4, (s, v) => BinaryPrimitives.WriteSingleLittleEndian(s, v.ValueKind == JsonValueKind.String ? float.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetSingle()));
                case DicomVR.FD: return Binary(tag, vr, values, 8, (s, v) => BinaryPrimitives.WriteDoubleLittleEndian(s, v.ValueKind == JsonValueKind.String ? double.Parse(v.GetString()!, CultureInfo.InvariantCulture) : v.GetDouble()));
                case DicomVR.AT:
                    return Binary(tag, vr, values, 4, (s, v) =>
                    {
                        var t = DicomTag.Parse(v.GetString()!);
                        BinaryPrimitives.WriteUInt16LittleEndian(s, t.Group);
                        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], t.Element);
                    });
            }
            var texts = new List<string>();
            foreach (var v in values.EnumerateArray())
            {
                texts.Add(v.ValueKind switch
                {
                    JsonValueKind.Null => "",
                    JsonValueKind.String => v.GetString()!,
                    JsonValueKind.Number when vr == DicomVR.DS => DecimalString(v),
                    JsonValueKind.Number => v.GetRawText(),
                    JsonValueKind.Object when vr == DicomVR.PN => PersonName(v),
                    _ => throw new DicomFormatException($"unexpected JSON {v.ValueKind} in a {DicomVRInfo.Code(vr)} value", -1, tag),
                });
            }
            foreach (var t in texts)
            {
                if (!Ascii.IsValid(t))
                {
                    nonAscii = true;
                }
            }
            return new DicomElement(tag, vr, DicomValues.EncodeStrings(vr, texts, Utf8));
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or OverflowException)
        {
            throw new DicomFormatException($"bad {DicomVRInfo.Code(vr)} value: {ex.Message}", -1, tag, ex);
        }
    }

    private static readonly DicomCharset Utf8 = DicomCharset.FromSpecificCharacterSet(["ISO_IR 192"]);

    /// <summary>DS holds at most 16 characters (PS3.5 §6.2): keep the JSON text when it fits, else the shortest form that does.</summary>
    private static string DecimalString(JsonElement v)
    {
        var raw = v.GetRawText();
        if (raw.Length <= 16)
        {
            return raw;
        }
        var d = v.GetDouble();
        for (var digits = 16; digits > 0; digits--)
        {
            var s = d.ToString("G" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            if (s.Length <= 16)
            {
                return s;
            }
        }
        return raw[..16];
    }

    /// <summary>PS3.18 §F.2.2: component groups joined by '=' with trailing empty groups dropped.</summary>
    private static string PersonName(JsonElement v)
    {
        string Group(string name) => v.TryGetProperty(name, out var g) && g.ValueKind == JsonValueKind.String ? g.GetString()! : "";
        return string.Join('=', Group("Alphabetic"), Group("Ideographic"), Group("Phonetic")).TrimEnd('=');
    }

    private static DicomElement Binary(DicomTag tag, DicomVR vr, JsonElement values, int size, Action<Span<byte>, JsonElement> write)
    {
        var n = values.GetArrayLength();
        var bytes = new byte[n * size];
        var i = 0;
        foreach (var v in values.EnumerateArray())
        {
            write(bytes.AsSpan(i * size, size), v);
            i++;
        }
        return new DicomElement(tag, vr, bytes);
    }
}
