using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Domain.Tests.Common;

/// <summary>An instance's header in the event log is one JSON string; events written before hold an object and read the same.</summary>
public sealed class HeaderTextConverterTests
{
    // As the event store serialises (Marten's System.Text.Json options: default encoder, deep headers allowed).
    private static readonly JsonSerializerOptions Store = new() { MaxDepth = HeaderJson.MaxDepth };

    private const string Header =
        """{"00080060":{"vr":"CS","Value":["CT"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Müller^Zoë \"Jo\" <x> & +"}]},"00181030":{"vr":"LO"},"00280010":{"vr":"US","Value":[512]}}""";

    [Fact]
    public void The_header_is_written_as_one_string_holding_its_json_text_and_read_back_attribute_for_attribute()
    {
        var stored = Instance(JsonDocument.Parse(Header).RootElement);

        var json = JsonSerializer.Serialize(stored, Store);
        using var written = JsonDocument.Parse(json);
        var header = written.RootElement.GetProperty(nameof(StoredInstance.Header));

        Assert.Equal(JsonValueKind.String, header.ValueKind);
        Assert.Equal(Header, header.GetString());
        Assert.Contains("\"Header\":\"{\\\"00080060\\\":", json, StringComparison.Ordinal); // a quote escaped in two bytes, not six
        var read = JsonSerializer.Deserialize<StoredInstance>(json, Store)!;
        Assert.Equal(Header, read.Header.GetRawText());
        Assert.Equal("Müller^Zoë \"Jo\" <x> & +", read.Header.GetProperty("00100010").GetProperty("Value")[0].GetProperty("Alphabetic").GetString());
    }

    [Fact]
    public void An_event_written_before_with_the_header_as_an_object_reads_the_same_header()
    {
        var written = JsonNode.Parse(JsonSerializer.Serialize(Instance(JsonDocument.Parse(Header).RootElement), Store))!;
        written["Header"] = JsonNode.Parse(written["Header"]!.GetValue<string>());
        var before = written.ToJsonString();
        Assert.StartsWith("{\"00080060\":", JsonDocument.Parse(before).RootElement.GetProperty("Header").GetRawText(), StringComparison.Ordinal);

        var read = JsonSerializer.Deserialize<StoredInstance>(before, Store)!;

        Assert.Equal(JsonValueKind.Object, read.Header.ValueKind);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Header), JsonNode.Parse(read.Header.GetRawText())), read.Header.GetRawText());
        Assert.Equal("Müller^Zoë \"Jo\" <x> & +", read.Header.GetProperty("00100010").GetProperty("Value")[0].GetProperty("Alphabetic").GetString());
    }

    [Fact]
    public void A_header_with_whitespace_and_control_characters_escaped_round_trips_byte_for_byte()
    {
        const string pretty = "{\n\t\"00081030\": {\"vr\": \"LO\", \"Value\": [\"A\\tB\\\\C\\u0001\"]}\r\n}";
        var header = JsonDocument.Parse(pretty).RootElement;

        var json = JsonSerializer.Serialize(Instance(header), Store);
        var read = JsonSerializer.Deserialize<StoredInstance>(json, Store)!;

        Assert.Equal(pretty, read.Header.GetRawText());
        Assert.Equal("A\tB\\C\u0001", read.Header.GetProperty("00081030").GetProperty("Value")[0].GetString());
    }

    [Fact]
    public void A_header_nested_deeper_than_the_serializer_default_round_trips()
    {
        // 200 nested sequences: 600 JSON levels, far past System.Text.Json's default of 64.
        var deep = new StringBuilder();
        for (var i = 0; i < 200; i++)
        {
            deep.Append("""{"00081140":{"vr":"SQ","Value":[""");
        }

        deep.Append("""{"00081155":{"vr":"UI","Value":["1.2.3"]}}""");
        for (var i = 0; i < 200; i++)
        {
            deep.Append("]}}");
        }

        var header = JsonDocument.Parse(deep.ToString(), new JsonDocumentOptions { MaxDepth = HeaderJson.MaxDepth }).RootElement;

        var read = JsonSerializer.Deserialize<StoredInstance>(JsonSerializer.Serialize(Instance(header), Store), Store)!;

        Assert.Equal(deep.ToString(), read.Header.GetRawText());
    }

    [Fact]
    public void A_string_that_is_not_json_is_refused_with_a_json_error_when_the_header_is_read()
    {
        var written = JsonNode.Parse(JsonSerializer.Serialize(Instance(JsonDocument.Parse(Header).RootElement), Store))!;
        written["Header"] = "{not json";
        var json = written.ToJsonString();

        var read = JsonSerializer.Deserialize<StoredInstance>(json, Store)!;

        Assert.Equal("1.2.3.4.5", read.SopInstanceUid);
        var error = Assert.Throws<JsonException>(() => read.Header.GetProperty("00080060"));
        Assert.Contains("not JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_event_read_from_the_log_keeps_the_header_as_text_until_it_is_read()
    {
        var json = JsonSerializer.Serialize(Instance(JsonDocument.Parse(Header).RootElement), Store);

        var read = JsonSerializer.Deserialize<StoredInstance>(json, Store)!;

        Assert.False(read.Header.IsParsed);
        Assert.Equal("CT", read.Header.GetProperty("00080060").GetProperty("Value")[0].GetString());
        Assert.True(read.Header.IsParsed);
    }

    [Fact]
    public void A_header_read_and_written_again_unread_is_the_same_text_and_the_same_header()
    {
        const string pretty = "{\n\t\"00081030\": {\"vr\": \"LO\", \"Value\": [\"A\\tB\\\\C\\u0001 \\\"q\\\" Zoë\"]}\r\n}";
        var json = JsonSerializer.Serialize(Instance(JsonDocument.Parse(pretty).RootElement), Store);

        var read = JsonSerializer.Deserialize<StoredInstance>(json, Store)!;
        var again = JsonSerializer.Serialize(read, Store);

        Assert.False(read.Header.IsParsed);
        Assert.Equal(json, again);
        var reread = JsonSerializer.Deserialize<StoredInstance>(again, Store)!;
        Assert.Equal(pretty, reread.Header.GetRawText());
        Assert.Equal("A\tB\\C\u0001 \"q\" Zoë", reread.Header.GetProperty("00081030").GetProperty("Value")[0].GetString());
    }

    [Fact]
    public void A_header_masked_after_it_was_read_is_written_as_masked()
    {
        var json = JsonSerializer.Serialize(Instance(JsonDocument.Parse(Header).RootElement), Store);
        var read = JsonSerializer.Deserialize<StoredInstance>(json, Store)!;

        var masked = JsonSerializer.Serialize(read.WithPersonalDataErased(), Store);

        Assert.DoesNotContain("Müller", masked, StringComparison.Ordinal);
        Assert.DoesNotContain("M\\u00FCller", masked, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(
            JsonNode.Parse(read.WithPersonalDataErased().Header.GetRawText())!.ToJsonString(),
            JsonNode.Parse(JsonSerializer.Deserialize<StoredInstance>(masked, Store)!.Header.GetRawText())!.ToJsonString());
    }

    private static StoredInstance Instance(JsonElement header) => new(
        "1.2.3", "1.2.3.4", "1.2.3.4.5", "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1", header,
        new BlobRef(new string('a', 64), new string('b', 40), 1234), IngestChannel.StowRs, "CT1", "STATION1");
}
