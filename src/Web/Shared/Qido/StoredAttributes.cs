using System.Data.Common;
using System.Text.Json;
using EventSourced.Dicom;

namespace EventSourced.Web.Shared.Qido;

/// <summary>
/// A record's attributes (a DICOM JSON object) as the UTF-8 text the database sent, with where each member's value
/// lies in it. A QIDO-RS answer copies a score of them into a result as they are (<see cref="QidoDataset"/>), so a
/// row costs one pass of the tokenizer and a copy of bytes, not a parsed document per row, a look-up per attribute and
/// each value written again: that cost, about 20 µs a study row, was most of the server's work for a page of 100
/// (docs/benchmarks.md, "QIDO pages: the attributes copied as the database sent them").
/// </summary>
public sealed class StoredAttributes
{
    /// <summary>No attributes (a null column).</summary>
    public static readonly StoredAttributes None = new([], 0, []);

    private readonly byte[] utf8;
    private readonly int length;

    /// <summary>The object's members in tag order: the tag (<see cref="uint.MaxValue"/> when the name is not one), where the name and the value lie.</summary>
    private readonly Member[] members;

    private readonly record struct Member(uint Tag, int NameStart, int NameLength, int ValueStart, int ValueLength);

    private StoredAttributes(byte[] utf8, int length, Member[] members)
    {
        this.utf8 = utf8;
        this.length = length;
        this.members = members;
    }

    /// <summary>How many members the object has.</summary>
    public int Count => members.Length;

    /// <summary>A JSON (or <c>jsonb</c>) column's object; <see cref="None"/> when null or not an object.</summary>
    public static StoredAttributes Read(DbDataReader reader, int column) =>
        reader.IsDBNull(column) ? None : FromUtf8(reader.GetFieldValue<byte[]>(column));

    /// <summary>An element's members (a header some correction rewrote), by its JSON text.</summary>
    public static StoredAttributes FromElement(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object ? FromUtf8(System.Text.Encoding.UTF8.GetBytes(element.GetRawText())) : None;

    /// <summary>
    /// An object's members from its UTF-8 text, whitespace between tokens taken out first (PostgreSQL writes a
    /// <c>jsonb</c> value with a space after each colon and comma); <see cref="None"/> when the text is not an object.
    /// </summary>
    public static StoredAttributes FromUtf8(byte[] json)
    {
        var length = Compact(json);
        var reader = new Utf8JsonReader(json.AsSpan(0, length), DicomJsonWriter.ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return None;
        }

        var found = new List<Member>(32);
        var ordered = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var nameStart = (int)reader.TokenStartIndex + 1;
            var nameLength = reader.ValueIsEscaped ? -1 : reader.ValueSpan.Length;
            var tag = nameLength > 0 && TryParseTag(reader.ValueSpan, out var t) ? t : uint.MaxValue;
            reader.Read();
            var valueStart = (int)reader.TokenStartIndex;
            reader.Skip();
            ordered &= found.Count == 0 || found[^1].Tag < tag;
            found.Add(new Member(tag, nameStart, nameLength, valueStart, (int)reader.BytesConsumed - valueStart));
        }

        var array = found.ToArray();
        if (!ordered)
        {
            Array.Sort(array, (a, b) => a.Tag.CompareTo(b.Tag));
        }

        return new StoredAttributes(json, length, array);
    }

    /// <summary>The stored value of <paramref name="tag"/> (an attribute object, as its JSON text).</summary>
    public bool TryGet(string tag, out ReadOnlyMemory<byte> value)
    {
        value = default;
        if (members.Length == 0 || !TryParseTag(tag, out var wanted))
        {
            return false;
        }

        int low = 0, high = members.Length - 1;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            var tagAt = members[middle].Tag;
            if (tagAt == wanted)
            {
                value = utf8.AsMemory(members[middle].ValueStart, members[middle].ValueLength);
                return true;
            }

            if (tagAt < wanted)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return false;
    }

    /// <summary>Every member: its name (as stored) and its value's JSON text.</summary>
    public IEnumerable<(string Name, ReadOnlyMemory<byte> Value)> Members()
    {
        foreach (var member in members)
        {
            var name = member.NameLength >= 0
                ? System.Text.Encoding.UTF8.GetString(utf8, member.NameStart, member.NameLength)
                : Unescaped(member.NameStart);
            yield return (name, utf8.AsMemory(member.ValueStart, member.ValueLength));
        }
    }

    /// <summary>The attributes as an element of their own (a parse: for what needs the whole object, not a score of its members).</summary>
    public JsonElement ToElement()
    {
        if (members.Length == 0 && length == 0)
        {
            return default;
        }

        using var document = JsonDocument.Parse(utf8.AsMemory(0, length), DicomJsonWriter.DocumentOptions);
        return document.RootElement.Clone();
    }

    /// <summary>An escaped member name, read again from where its string token starts.</summary>
    private string Unescaped(int nameStart)
    {
        var reader = new Utf8JsonReader(utf8.AsSpan(nameStart - 1, length - nameStart + 1), DicomJsonWriter.ReaderOptions);
        reader.Read();
        return reader.GetString()!;
    }

    /// <summary>Eight hexadecimal digits (a DICOM JSON key) as the tag's number.</summary>
    private static bool TryParseTag(ReadOnlySpan<byte> name, out uint tag) =>
        uint.TryParse(name, System.Globalization.NumberStyles.AllowHexSpecifier, null, out tag) && name.Length == 8;

    private static bool TryParseTag(string name, out uint tag) =>
        uint.TryParse(name, System.Globalization.NumberStyles.AllowHexSpecifier, null, out tag) && name.Length == 8;

    /// <summary>Where a run outside strings ends: whitespace to drop, or a string's opening quote.</summary>
    private static readonly System.Buffers.SearchValues<byte> OutsideStops = System.Buffers.SearchValues.Create(" \t\n\r\""u8);

    /// <summary>Where a run inside a string ends: its closing quote, or an escape.</summary>
    private static readonly System.Buffers.SearchValues<byte> InsideStops = System.Buffers.SearchValues.Create("\"\\"u8);

    /// <summary>Takes out the whitespace between tokens (never inside a string), in place; the length left.</summary>
    private static int Compact(byte[] json)
    {
        var written = 0;
        var i = 0;
        var inString = false;
        while (i < json.Length)
        {
            // A run up to the next byte that matters, copied down as a block.
            var run = json.AsSpan(i).IndexOfAny(inString ? InsideStops : OutsideStops);
            var end = run < 0 ? json.Length : i + run;
            if (written != i)
            {
                json.AsSpan(i, end - i).CopyTo(json.AsSpan(written));
            }

            written += end - i;
            if (end == json.Length)
            {
                break;
            }

            var c = json[end];
            i = end + 1;
            if (inString)
            {
                json[written++] = c;
                if (c == (byte)'\\')
                {
                    if (i < json.Length)
                    {
                        json[written++] = json[i++];
                    }
                }
                else
                {
                    inString = false;
                }
            }
            else if (c == (byte)'"')
            {
                json[written++] = c;
                inString = true;
            }
        }

        return written;
    }
}
