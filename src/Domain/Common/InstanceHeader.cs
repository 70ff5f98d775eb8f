using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSourced.Domain.Common;

/// <summary>
/// An instance's DICOM JSON header as an event carries it, parsed only when it is read. An event read from the log
/// keeps the header's text as the log holds it (one JSON string, <see cref="HeaderTextConverter"/>) and turns it into a
/// <see cref="JsonElement"/> the first time a member is asked for: the write side's live aggregation of a study, which
/// reads every event of the study's stream for each store but needs no header after the first, and the study feed's
/// daemon, which needs none, no longer parse them (docs/architecture.md, "Headers parsed when read"). Read from the
/// log, it keeps that text, parsed or not, and is written back with it, copied as it came. Built from an element (an
/// instance being stored, a header rewritten), it is that element. The members the code reads are forwarded to
/// <see cref="Element"/>, and it converts to and from <see cref="JsonElement"/> implicitly, so a header reads as one.
/// An event may be read by several threads (the daemon's projections): the parsed element is published as one
/// reference, so a reader sees it whole or parses again.
/// </summary>
[JsonConverter(typeof(InstanceHeaderConverter))]
public sealed class InstanceHeader
{
    private readonly byte[]? escaped;
    private StrongBox<JsonElement>? parsed;

    private InstanceHeader(JsonElement element) => parsed = new(element);

    private InstanceHeader(byte[] escaped) => this.escaped = escaped;

    /// <summary>The header, parsed on first use (a text that is not JSON throws <see cref="JsonException"/> then).</summary>
    public JsonElement Element => (parsed ??= new(HeaderTextConverter.Parse(escaped!))).Value;

    /// <summary>Whether the header has been parsed (false: still the log's text).</summary>
    public bool IsParsed => parsed is not null;

    /// <summary>The log's text of the header as a JSON string token's content (escaped), when it was read as one.</summary>
    internal ReadOnlySpan<byte> EscapedText => escaped;

    internal bool HasEscapedText => escaped is not null;

    public static InstanceHeader From(JsonElement element) => new(element);

    /// <summary>A header of the log's text: a JSON string token's content, still escaped.</summary>
    internal static InstanceHeader FromEscapedText(byte[] escaped) => new(escaped);

    public static implicit operator JsonElement(InstanceHeader header) => header.Element;

    public static implicit operator InstanceHeader(JsonElement element) => new(element);

    public JsonValueKind ValueKind => Element.ValueKind;

    public JsonElement GetProperty(string propertyName) => Element.GetProperty(propertyName);

    public bool TryGetProperty(string propertyName, out JsonElement value) => Element.TryGetProperty(propertyName, out value);

    public JsonElement.ObjectEnumerator EnumerateObject() => Element.EnumerateObject();

    public string GetRawText() => Element.GetRawText();

    public override string ToString() => Element.ToString();
}

/// <summary>
/// <see cref="InstanceHeader"/> in the event log: written as <see cref="HeaderTextConverter"/> writes a header (one JSON
/// string), or as the text it was read as; read as that text, unparsed (an event written before, with the header as an
/// object, is parsed as it is read, as before).
/// </summary>
public sealed class InstanceHeaderConverter : JsonConverter<InstanceHeader>
{
    public override InstanceHeader Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return InstanceHeader.From(JsonElement.ParseValue(ref reader));
        }

        var escaped = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray();
        return InstanceHeader.FromEscapedText(escaped);
    }

    public override void Write(Utf8JsonWriter writer, InstanceHeader value, JsonSerializerOptions options)
    {
        if (value.HasEscapedText)
        {
            HeaderTextConverter.WriteEscapedText(writer, value.EscapedText);
            return;
        }

        HeaderTextConverter.WriteHeader(writer, value.Element);
    }
}
