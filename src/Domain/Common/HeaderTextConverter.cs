using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSourced.Domain.Common;

/// <summary>
/// An instance header in the event log: its DICOM JSON written as one JSON string, not as nested objects. PostgreSQL
/// then stores the header's text once, as a string of the event's <c>jsonb</c>, instead of one <c>jsonb</c> object per
/// attribute (with its own key table and offsets, a third larger than the text), so the event compresses better and
/// the database does not parse the header's nesting (docs/architecture.md, "The event log's headers as text").
/// Reading accepts both forms: events written before hold the header as an object and read as they always did,
/// so no upcaster is needed. The header read back is the same element, attribute for attribute.
/// </summary>
public sealed class HeaderTextConverter : JsonConverter<JsonElement>
{
    private static readonly JsonReaderOptions Inner = new() { MaxDepth = HeaderJson.MaxDepth };

    public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return JsonElement.ParseValue(ref reader);
        }

        return Parse(ref reader);
    }

    /// <summary>The header whose text is the content of a JSON string token, still escaped (<see cref="InstanceHeader"/>'s text).</summary>
    internal static JsonElement Parse(ReadOnlySpan<byte> escaped)
    {
        var quoted = Quoted(escaped);
        try
        {
            var reader = new Utf8JsonReader(quoted.AsSpan(0, escaped.Length + 2));
            reader.Read();
            return Parse(ref reader);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(quoted);
        }
    }

    private static JsonElement Parse(ref Utf8JsonReader reader)
    {
        var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = reader.CopyString(buffer);
            var inner = new Utf8JsonReader(buffer.AsSpan(0, written), Inner);
            return JsonElement.ParseValue(ref inner);
        }
        catch (JsonException e)
        {
            throw new JsonException("An instance header stored as text is not JSON.", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// An object as a string of its JSON text, escaped only where JSON requires (a quote, a backslash, a control
    /// character), not as the writer's encoder would (<c>\u0022</c> for every quote, six bytes for one).
    /// </summary>
    public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options) => WriteHeader(writer, value);

    /// <summary>A JSON string token whose content is <paramref name="escaped"/>, already escaped (as it was read).</summary>
    internal static void WriteEscapedText(Utf8JsonWriter writer, ReadOnlySpan<byte> escaped)
    {
        var quoted = Quoted(escaped);
        try
        {
            writer.WriteRawValue(quoted.AsSpan(0, escaped.Length + 2), skipInputValidation: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(quoted);
        }
    }

    /// <summary>A JSON string token of <paramref name="escaped"/> in a pooled buffer (its first <c>escaped.Length + 2</c> bytes), to be returned.</summary>
    private static byte[] Quoted(ReadOnlySpan<byte> escaped)
    {
        var quoted = ArrayPool<byte>.Shared.Rent(escaped.Length + 2);
        quoted[0] = (byte)'"';
        escaped.CopyTo(quoted.AsSpan(1));
        quoted[escaped.Length + 1] = (byte)'"';
        return quoted;
    }

    /// <summary>A header as <see cref="Write"/> writes it.</summary>
    internal static void WriteHeader(Utf8JsonWriter writer, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            value.WriteTo(writer);
            return;
        }

        var raw = JsonMarshal.GetRawUtf8Value(value);
        var length = 2;
        foreach (var b in raw)
        {
            length += b is (byte)'"' or (byte)'\\' ? 2 : b < 0x20 ? 6 : 1;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var at = 0;
            buffer[at++] = (byte)'"';
            foreach (var b in raw)
            {
                if (b is (byte)'"' or (byte)'\\')
                {
                    buffer[at++] = (byte)'\\';
                    buffer[at++] = b;
                }
                else if (b < 0x20)
                {
                    "\\u00"u8.CopyTo(buffer.AsSpan(at));
                    buffer[at + 4] = Hex[b >> 4];
                    buffer[at + 5] = Hex[b & 0xF];
                    at += 6;
                }
                else
                {
                    buffer[at++] = b;
                }
            }

            buffer[at++] = (byte)'"';
            writer.WriteRawValue(buffer.AsSpan(0, at), skipInputValidation: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;
}
