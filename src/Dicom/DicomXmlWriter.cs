using System.Text.Json;
using System.Xml;

namespace EventSourced.Dicom;

/// <summary>
/// The Native DICOM Model (PS3.19 Annex A), written from a data set's DICOM JSON (PS3.18 Annex F): the XML
/// form of the same attributes for the <c>application/dicom+xml</c> answers of QIDO-RS and WADO-RS
/// metadata. Values map one to one: <c>Value</c> → numbered <c>&lt;Value&gt;</c>, PN groups → their
/// components, <c>InlineBinary</c> → <c>&lt;InlineBinary&gt;</c>, <c>BulkDataURI</c> → <c>&lt;BulkData uri&gt;</c>,
/// sequence items → numbered <c>&lt;Item&gt;</c>. Nesting is walked with an explicit stack.
/// </summary>
public static class DicomXmlWriter
{
    public const string Namespace = "http://dicom.nema.org/PS3.19/models/NativeDICOM";

    private static readonly string[] NameComponents = ["FamilyName", "GivenName", "MiddleName", "NamePrefix", "NameSuffix"];

    public static XmlWriterSettings Settings { get; } = new()
    {
        Encoding = new System.Text.UTF8Encoding(false),
        Indent = false,
        Async = true,
        CheckCharacters = false,
    };

    /// <summary>Writes one <c>NativeDicomModel</c> document.</summary>
    public static void Write(XmlWriter writer, JsonElement dataset)
    {
        writer.WriteStartDocument();
        writer.WriteStartElement("NativeDicomModel", Namespace);
        writer.WriteAttributeString("xml", "space", null, "preserve");
        // Each level is an attribute enumerator; a sequence pushes its items, each item its attributes.
        var frames = new Stack<object>();
        var datasets = new Stack<JsonElement>(); // the data set of each open attribute enumerator (private creators)
        frames.Push(Attributes(dataset));
        datasets.Push(dataset);
        while (frames.Count > 0)
        {
            switch (frames.Peek())
            {
                case IEnumerator<JsonProperty> attributes:
                    if (!attributes.MoveNext())
                    {
                        frames.Pop();
                        datasets.Pop();
                        if (frames.Count > 0)
                        {
                            writer.WriteEndElement(); // Item
                        }

                        continue;
                    }

                    if (WriteAttribute(writer, attributes.Current, datasets.Peek()) is { } items)
                    {
                        frames.Push(new ItemCursor(items));
                    }

                    break;
                case ItemCursor cursor:
                    if (!cursor.Items.MoveNext())
                    {
                        frames.Pop();
                        writer.WriteEndElement(); // DicomAttribute of the sequence
                        continue;
                    }

                    cursor.Number++;
                    writer.WriteStartElement("Item", Namespace);
                    writer.WriteAttributeString("number", cursor.Number.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    frames.Push(Attributes(cursor.Current));
                    datasets.Push(cursor.Current);
                    break;
            }
        }

        writer.WriteEndElement();
        writer.WriteEndDocument();
    }

    public static byte[] ToBytes(JsonElement dataset)
    {
        using var buffer = new MemoryStream();
        using (var writer = XmlWriter.Create(buffer, Settings))
        {
            Write(writer, dataset);
        }

        return buffer.ToArray();
    }

    private sealed class ItemCursor(IEnumerator<JsonElement> items)
    {
        public IEnumerator<JsonElement> Items { get; } = items;
        public int Number { get; set; }
        public JsonElement Current => Items.Current;
    }

    private static IEnumerator<JsonProperty> Attributes(JsonElement dataset) =>
        dataset.ValueKind == JsonValueKind.Object ? dataset.EnumerateObject().GetEnumerator() : Enumerable.Empty<JsonProperty>().GetEnumerator();

    /// <summary>Writes one attribute; for a sequence with items, leaves its element open and returns the items.</summary>
    private static IEnumerator<JsonElement>? WriteAttribute(XmlWriter writer, JsonProperty attribute, JsonElement dataset)
    {
        var value = attribute.Value;
        var vr = value.ValueKind == JsonValueKind.Object && value.TryGetProperty("vr", out var v) ? v.GetString() ?? "UN" : "UN";
        writer.WriteStartElement("DicomAttribute", Namespace);
        uint tag = 0;
        var parsed = attribute.Name.Length == 8 && uint.TryParse(attribute.Name, System.Globalization.NumberStyles.HexNumber, null, out tag);
        var group = tag >> 16;
        var element = tag & 0xFFFF;
        if (parsed && group % 2 == 1 && element >= 0x1000 && PrivateCreator(dataset, group, element >> 8) is { } creator)
        {
            // PS3.19 §A.1.1: a private data element is named by its private creator and the element's low byte.
            writer.WriteAttributeString("tag", $"{group:X4}00{element & 0xFF:X2}");
            writer.WriteAttributeString("vr", vr);
            writer.WriteAttributeString("privateCreator", creator);
        }
        else
        {
            writer.WriteAttributeString("tag", attribute.Name);
            writer.WriteAttributeString("vr", vr);
            if (parsed && DicomDictionary.KeywordOf(new DicomTag(tag)) is { Length: > 0 } keyword)
            {
                writer.WriteAttributeString("keyword", keyword);
            }
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            writer.WriteEndElement();
            return null;
        }

        if (value.TryGetProperty("BulkDataURI", out var uri))
        {
            writer.WriteStartElement("BulkData", Namespace);
            writer.WriteAttributeString("uri", uri.GetString());
            writer.WriteEndElement();
        }
        else if (value.TryGetProperty("InlineBinary", out var inline))
        {
            writer.WriteElementString("InlineBinary", Namespace, inline.GetString());
        }
        else if (value.TryGetProperty("Value", out var values) && values.ValueKind == JsonValueKind.Array)
        {
            if (vr == "SQ")
            {
                return values.EnumerateArray().GetEnumerator();
            }

            var number = 0;
            foreach (var item in values.EnumerateArray())
            {
                number++;
                if (vr == "PN")
                {
                    WritePersonName(writer, item, number);
                    continue;
                }

                writer.WriteStartElement("Value", Namespace);
                writer.WriteAttributeString("number", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
                writer.WriteString(item.ValueKind switch
                {
                    JsonValueKind.Null => "",
                    JsonValueKind.String => item.GetString(),
                    _ => item.GetRawText(),
                });
                writer.WriteEndElement();
            }
        }

        writer.WriteEndElement();
        return null;
    }

    /// <summary>The value of the private creator element (gggg,00bb) reserving block bb of the data set, or null.</summary>
    private static string? PrivateCreator(JsonElement dataset, uint group, uint block) =>
        dataset.ValueKind == JsonValueKind.Object
        && dataset.TryGetProperty($"{group:X4}00{block:X2}", out var creator)
        && creator.ValueKind == JsonValueKind.Object
        && creator.TryGetProperty("Value", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0
        && values[0].ValueKind == JsonValueKind.String
            ? values[0].GetString()
            : null;

    /// <summary>PS3.19 §A.1.5: each component group's five components as separate elements, empty ones left out.</summary>
    private static void WritePersonName(XmlWriter writer, JsonElement name, int number)
    {
        writer.WriteStartElement("PersonName", Namespace);
        writer.WriteAttributeString("number", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (name.ValueKind == JsonValueKind.Object)
        {
            foreach (var group in new[] { "Alphabetic", "Ideographic", "Phonetic" })
            {
                if (!name.TryGetProperty(group, out var text) || text.GetString() is not { Length: > 0 } groupText)
                {
                    continue;
                }

                writer.WriteStartElement(group, Namespace);
                var components = groupText.Split('^');
                for (var i = 0; i < components.Length && i < NameComponents.Length; i++)
                {
                    if (components[i].Length > 0)
                    {
                        writer.WriteElementString(NameComponents[i], Namespace, components[i]);
                    }
                }

                writer.WriteEndElement();
            }
        }

        writer.WriteEndElement();
    }
}
