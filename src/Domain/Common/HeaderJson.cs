using System.Text.Json;
using System.Text.Json.Nodes;

namespace EventSourced.Domain.Common;

/// <summary>
/// A stored header (DICOM JSON, PS3.18 Annex F) taken apart and put together again as deep as it can be: three JSON
/// levels per nested sequence, up to the codec's 4,096 sequence levels (the DICOM JSON writer's limit), not
/// System.Text.Json's default of 64, which refused headers of about 20 nested sequences.
/// </summary>
public static class HeaderJson
{
    public const int MaxDepth = 3 * 4096 + 8;

    private static readonly JsonDocumentOptions Document = new() { MaxDepth = MaxDepth };

    private static readonly JsonSerializerOptions Serializer = new() { MaxDepth = MaxDepth };

    /// <summary>A header (or any attribute's value) as a mutable node.</summary>
    public static JsonNode? Node(JsonElement value) => JsonNode.Parse(value.GetRawText(), documentOptions: Document);

    /// <summary>A header as a mutable object.</summary>
    public static JsonObject Object(JsonElement header) => Node(header)!.AsObject();

    /// <summary>A node written back as an element.</summary>
    public static JsonElement Element(JsonNode node) => JsonSerializer.SerializeToElement(node, Serializer);
}
