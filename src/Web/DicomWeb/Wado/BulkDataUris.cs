using System.Collections.Frozen;
using System.Text.Json;
using EventSourced.Dicom;

namespace EventSourced.Web.DicomWeb.Wado;

/// <summary>
/// Adds a BulkDataURI (PS3.18 §F.2.6) to every binary attribute that the stored header left without a value:
/// the header recorded at store time keeps binary values up to 1 KiB inline and drops larger ones (Pixel Data,
/// overlays, curves, LUTs, embedded documents) to their VR. Each such attribute gets the URI of the bulk data
/// route, which reads the value from the stored file (<see cref="FramesModule"/>).
/// </summary>
public static class BulkDataUris
{
    /// <summary>Nesting deeper than this is copied as recorded, without URIs (no real data set nests so deep).</summary>
    private const int MaxDepth = 32;

    /// <summary>
    /// Writes the header with BulkDataURIs; <paramref name="transferSyntax"/>, when given, is added as Available
    /// Transfer Syntax UID (0008,3002), the syntax a viewer can have the pixels in (the SOP Common
    /// attribute of PS3.3 §C.12.1): we never transcode, so it is the stored one.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, JsonElement dataset, string instanceUrl, string? transferSyntax = null) =>
        WriteDataset(writer, dataset, $"{instanceUrl}/bulkdata/", 0, transferSyntax);

    public static bool IsBinary(string? vr) => vr is "OB" or "OW" or "OF" or "OD" or "OL" or "OV" or "UN";

    private static readonly string AvailableTransferSyntaxUid = DicomTags.AvailableTransferSyntaxUID.JsonKey();

    private static void WriteDataset(Utf8JsonWriter writer, JsonElement dataset, string prefix, int depth, string? transferSyntax = null)
    {
        if (dataset.ValueKind != JsonValueKind.Object || depth > MaxDepth)
        {
            dataset.WriteTo(writer);
            return;
        }

        writer.WriteStartObject();
        foreach (var attribute in dataset.EnumerateObject())
        {
            if (transferSyntax is not null && string.CompareOrdinal(attribute.Name, AvailableTransferSyntaxUid) >= 0)
            {
                WriteAvailableTransferSyntax(writer, transferSyntax);
                transferSyntax = null;
                if (attribute.Name == AvailableTransferSyntaxUid)
                {
                    continue;
                }
            }

            var value = attribute.Value;
            var vr = value.ValueKind == JsonValueKind.Object && value.TryGetProperty("vr", out var v) ? v.GetString() : null;
            if (vr == "SQ" && value.TryGetProperty("Value", out var items) && items.ValueKind == JsonValueKind.Array)
            {
                writer.WritePropertyName(attribute.Name);
                writer.WriteStartObject();
                writer.WriteString("vr"u8, "SQ");
                writer.WritePropertyName("Value"u8);
                writer.WriteStartArray();
                var number = 0;
                foreach (var item in items.EnumerateArray())
                {
                    number++;
                    WriteDataset(writer, item, $"{prefix}{attribute.Name}/{number}/", depth + 1);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
                continue;
            }

            if (IsBinary(vr) && !value.TryGetProperty("Value", out _) && !value.TryGetProperty("InlineBinary", out _) && !value.TryGetProperty("BulkDataURI", out _))
            {
                writer.WritePropertyName(attribute.Name);
                writer.WriteStartObject();
                writer.WriteString("vr"u8, vr);
                writer.WriteString("BulkDataURI"u8, prefix + attribute.Name);
                writer.WriteEndObject();
                continue;
            }

            attribute.WriteTo(writer);
        }

        if (transferSyntax is not null)
        {
            WriteAvailableTransferSyntax(writer, transferSyntax);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// What <see cref="Write"/> writes for the header parsed from <paramref name="header"/> (UTF-8 JSON, e.g. a
    /// <c>jsonb</c> column as PostgreSQL prints it), byte for byte, written token by token from the bytes: no document
    /// is built, no attribute name or VR becomes a string. Each value is written as <see cref="JsonElement.WriteTo"/>
    /// writes it (strings unescaped and escaped again by <paramref name="writer"/>'s encoder, numbers as they are).
    /// </summary>
    public static void Copy(Utf8JsonWriter writer, ReadOnlySpan<byte> header, string instanceUrl, string? transferSyntax = null)
    {
        var reader = new Utf8JsonReader(header, DicomJsonWriter.ReaderOptions);
        reader.Read();
        var prefix = new UriPrefix(instanceUrl);
        try
        {
            CopyDataset(writer, ref reader, ref prefix, 0, transferSyntax);
        }
        finally
        {
            prefix.Dispose();
        }
    }

    private static void CopyDataset(Utf8JsonWriter writer, ref Utf8JsonReader reader, ref UriPrefix prefix, int depth, string? transferSyntax = null)
    {
        if (reader.TokenType != JsonTokenType.StartObject || depth > MaxDepth)
        {
            CopyValue(writer, ref reader);
            return;
        }

        writer.WriteStartObject();
        Span<byte> nameBuffer = stackalloc byte[64];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = Unescaped(in reader, nameBuffer, out var rentedName);
            try
            {
                if (transferSyntax is not null && name.SequenceCompareTo(AvailableTransferSyntaxUidUtf8) >= 0)
                {
                    WriteAvailableTransferSyntax(writer, transferSyntax);
                    transferSyntax = null;
                    if (name.SequenceEqual(AvailableTransferSyntaxUidUtf8))
                    {
                        reader.Read();
                        reader.Skip();
                        continue;
                    }
                }

                reader.Read();
                var (vr, sequenceItems, binaryWithoutValue) = Inspect(reader);
                if (sequenceItems)
                {
                    writer.WritePropertyName(name);
                    writer.WriteStartObject();
                    writer.WriteString("vr"u8, "SQ"u8);
                    writer.WritePropertyName("Value"u8);
                    writer.WriteStartArray();
                    CopyItems(writer, ref reader, ref prefix, name, depth);
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                    continue;
                }

                if (binaryWithoutValue)
                {
                    writer.WritePropertyName(name);
                    writer.WriteStartObject();
                    writer.WriteString("vr"u8, vr);
                    var length = prefix.Length;
                    prefix.Append(name);
                    writer.WriteString("BulkDataURI"u8, prefix.Written);
                    prefix.Length = length;
                    writer.WriteEndObject();
                    reader.Skip();
                    continue;
                }

                writer.WritePropertyName(name);
                CopyValue(writer, ref reader);
            }
            finally
            {
                if (rentedName is not null)
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(rentedName);
                }
            }
        }

        if (transferSyntax is not null)
        {
            WriteAvailableTransferSyntax(writer, transferSyntax);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// The attribute at <paramref name="reader"/> (its value's first token), as <see cref="WriteDataset"/> tells it:
    /// its VR (its "vr" member, null when it has none or is no object), whether it is a sequence with a "Value"
    /// array, and whether it is binary with none of "Value", "InlineBinary" and "BulkDataURI". Reads a copy of the reader.
    /// </summary>
    private static (string? Vr, bool SequenceItems, bool BinaryWithoutValue) Inspect(Utf8JsonReader look)
    {
        if (look.TokenType != JsonTokenType.StartObject)
        {
            return (null, false, false);
        }

        string? vr = null;
        bool valueArray = false, hasValue = false;
        while (look.Read() && look.TokenType == JsonTokenType.PropertyName)
        {
            if (look.ValueTextEquals("vr"u8))
            {
                look.Read();
                vr = Vr(ref look);
                if (vr is not "SQ" && !IsBinary(vr))
                {
                    return (vr, false, false);
                }

                continue;
            }

            var member = look.ValueTextEquals("Value"u8) ? 1 : look.ValueTextEquals("InlineBinary"u8) || look.ValueTextEquals("BulkDataURI"u8) ? 2 : 0;
            look.Read();
            if (member == 1)
            {
                valueArray = look.TokenType == JsonTokenType.StartArray;
            }

            hasValue |= member != 0;
            look.Skip();
        }

        return (vr, vr == "SQ" && valueArray, IsBinary(vr) && !hasValue);
    }

    /// <summary>The items of the sequence attribute <paramref name="name"/> whose value starts at <paramref name="reader"/>, each with its own BulkDataURIs; leaves the reader at the attribute's end.</summary>
    private static void CopyItems(Utf8JsonWriter writer, ref Utf8JsonReader reader, ref UriPrefix prefix, scoped ReadOnlySpan<byte> name, int depth)
    {
        var items = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (items || !reader.ValueTextEquals("Value"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            items = true;
            reader.Read();
            var length = prefix.Length;
            var number = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                number++;
                prefix.Length = length;
                prefix.Append(name);
                prefix.Append("/"u8);
                prefix.Append(number);
                prefix.Append("/"u8);
                CopyDataset(writer, ref reader, ref prefix, depth + 1);
            }

            prefix.Length = length;
        }
    }

    /// <summary>The value at <paramref name="reader"/> as <see cref="JsonElement.WriteTo"/> writes it; leaves the reader on its last token.</summary>
    private static void CopyValue(Utf8JsonWriter writer, ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        Span<byte> buffer = stackalloc byte[256];
        while (true)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    writer.WriteStartObject();
                    break;
                case JsonTokenType.EndObject:
                    writer.WriteEndObject();
                    break;
                case JsonTokenType.StartArray:
                    writer.WriteStartArray();
                    break;
                case JsonTokenType.EndArray:
                    writer.WriteEndArray();
                    break;
                case JsonTokenType.PropertyName:
                case JsonTokenType.String:
                    var text = Unescaped(in reader, buffer, out var rented);
                    if (reader.TokenType == JsonTokenType.PropertyName)
                    {
                        writer.WritePropertyName(text);
                    }
                    else
                    {
                        writer.WriteStringValue(text);
                    }

                    if (rented is not null)
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(rented);
                    }

                    break;
                case JsonTokenType.Number:
                    writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                    break;
                case JsonTokenType.True:
                    writer.WriteBooleanValue(true);
                    break;
                case JsonTokenType.False:
                    writer.WriteBooleanValue(false);
                    break;
                case JsonTokenType.Null:
                    writer.WriteNullValue();
                    break;
            }

            if (reader.CurrentDepth == depth && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                return;
            }

            reader.Read();
        }
    }

    /// <summary>The string or name at <paramref name="reader"/>, unescaped (in <paramref name="buffer"/>, or in <paramref name="rented"/> when longer).</summary>
    private static ReadOnlySpan<byte> Unescaped(in Utf8JsonReader reader, Span<byte> buffer, out byte[]? rented)
    {
        rented = null;
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }

        if (reader.ValueSpan.Length > buffer.Length)
        {
            buffer = rented = System.Buffers.ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
        }

        return buffer[..reader.CopyString(buffer)];
    }

    /// <summary>The VRs of PS3.5 §6.2, by their two bytes: a VR read from a header is one of these strings, not a new one.</summary>
    private static readonly FrozenDictionary<int, string> Vrs =
        "AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV".Split(' ')
            .ToFrozenDictionary(vr => vr[0] << 8 | vr[1]);

    private static string? Vr(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && reader.ValueSpan.Length == 2
        && Vrs.TryGetValue(reader.ValueSpan[0] << 8 | reader.ValueSpan[1], out var known)
            ? known
            : reader.GetString();

    private static readonly byte[] AvailableTransferSyntaxUidUtf8 = System.Text.Encoding.UTF8.GetBytes(AvailableTransferSyntaxUid);

    /// <summary>The BulkDataURI being built, "{instance URL}/bulkdata/" and the path of the attribute, in a pooled buffer.</summary>
    private struct UriPrefix : IDisposable
    {
        private byte[] _buffer;

        public UriPrefix(string instanceUrl)
        {
            _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(System.Text.Encoding.UTF8.GetMaxByteCount(instanceUrl.Length) + 128);
            Length = System.Text.Encoding.UTF8.GetBytes(instanceUrl, _buffer);
            Append("/bulkdata/"u8);
        }

        public int Length { get; set; }

        public readonly ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

        public void Append(ReadOnlySpan<byte> bytes)
        {
            Grow(bytes.Length);
            bytes.CopyTo(_buffer.AsSpan(Length));
            Length += bytes.Length;
        }

        public void Append(int number)
        {
            Grow(11);
            number.TryFormat(_buffer.AsSpan(Length), out var written, default, System.Globalization.CultureInfo.InvariantCulture);
            Length += written;
        }

        private void Grow(int more)
        {
            if (Length + more > _buffer.Length)
            {
                var larger = System.Buffers.ArrayPool<byte>.Shared.Rent((Length + more) * 2);
                _buffer.AsSpan(0, Length).CopyTo(larger);
                System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }
        }

        public readonly void Dispose() => System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
    }

    private static void WriteAvailableTransferSyntax(Utf8JsonWriter writer, string transferSyntax)
    {
        writer.WritePropertyName(AvailableTransferSyntaxUid);
        writer.WriteStartObject();
        writer.WriteString("vr"u8, "UI");
        writer.WritePropertyName("Value"u8);
        writer.WriteStartArray();
        writer.WriteStringValue(transferSyntax);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
