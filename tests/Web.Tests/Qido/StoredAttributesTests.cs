using System.Text;
using System.Text.Json;
using EventSourced.Web.Shared.Qido;

namespace EventSourced.Web.Tests.Qido;

/// <summary>
/// QIDO-RS copies a record's attributes into its answers as the text the database sent: each member found where it
/// lies, the whitespace PostgreSQL writes between tokens taken out, nothing inside a string touched. System.Text.Json's
/// parse of the same text is the oracle for every value.
/// </summary>
public sealed class StoredAttributesTests
{
    /// <summary>As PostgreSQL writes a <c>jsonb</c> value: a space after each colon and comma, strings with spaces, escapes and non-ASCII text.</summary>
    private const string AsPostgresWritesIt = """
        {"00080020": {"vr": "DA", "Value": ["20240315"]}, "00081030": {"vr": "LO", "Value": ["CT , HEAD : \"WITH\" \\ CONTRAST"]}, "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Müller^Désirée  ", "Ideographic": "山田^太郎"}]}, "00201208": {"vr": "IS", "Value": [12]}, "00081110": {"vr": "SQ", "Value": [{"00081150": {"vr": "UI", "Value": ["1.2.3"]}, "00081155": {"vr": "UI", "Value": ["1.2.3.4"]}}]}, "00321060": {"vr": "LO"}}
        """;

    [Fact]
    public void Every_member_is_found_and_reads_as_the_parser_reads_it()
    {
        var stored = StoredAttributes.FromUtf8(Encoding.UTF8.GetBytes(AsPostgresWritesIt));
        using var oracle = JsonDocument.Parse(AsPostgresWritesIt);

        Assert.Equal(oracle.RootElement.EnumerateObject().Count(), stored.Count);
        foreach (var member in oracle.RootElement.EnumerateObject())
        {
            Assert.True(stored.TryGet(member.Name, out var value), member.Name);
            using var copied = JsonDocument.Parse(value);
            Assert.True(JsonElement.DeepEquals(member.Value, copied.RootElement), member.Name);
        }

        Assert.False(stored.TryGet("00100020", out _));
        Assert.False(stored.TryGet("not a tag", out _));
    }

    [Fact]
    public void Whitespace_between_tokens_is_taken_out_and_none_inside_strings()
    {
        var stored = StoredAttributes.FromUtf8(Encoding.UTF8.GetBytes(AsPostgresWritesIt));

        Assert.True(stored.TryGet("00081030", out var description));
        Assert.Equal("""{"vr":"LO","Value":["CT , HEAD : \"WITH\" \\ CONTRAST"]}""", Encoding.UTF8.GetString(description.Span));
        Assert.True(stored.TryGet("00100010", out var name));
        Assert.Equal("""{"vr":"PN","Value":[{"Alphabetic":"Müller^Désirée  ","Ideographic":"山田^太郎"}]}""", Encoding.UTF8.GetString(name.Span));
    }

    [Fact]
    public void Members_out_of_tag_order_or_in_lower_case_are_found()
    {
        var stored = StoredAttributes.FromUtf8("""{"0020000d":{"vr":"UI","Value":["1.2"]},"00080020":{"vr":"DA","Value":["20240101"]},"00080005":{"vr":"CS"}}"""u8.ToArray());

        Assert.True(stored.TryGet("0020000D", out var uid));
        Assert.Equal("""{"vr":"UI","Value":["1.2"]}""", Encoding.UTF8.GetString(uid.Span));
        Assert.True(stored.TryGet("00080020", out _));
        Assert.True(stored.TryGet("00080005", out _));
    }

    [Fact]
    public void A_copy_of_all_members_leaves_out_binary_values_without_their_bytes()
    {
        var stored = StoredAttributes.FromUtf8("""
            {"00080020": {"vr": "DA", "Value": ["20240101"]},
             "00091010": {"vr": "OB"},
             "00091011": {"vr": "OB", "InlineBinary": "AAEC"},
             "00091012": {"vr": "UN", "BulkDataURI": "http://x/y"},
             "7FE00010": {"vr": "OW", "InlineBinary": "AAAA"},
             "\u0030\u0030\u0030\u0039\u0031\u0030\u0031\u0033": {"vr": "LO", "Value": ["escaped name"]}}
            """u8.ToArray());

        using var answer = JsonDocument.Parse(Written(new QidoDataset().CopyAll(stored)));

        Assert.Equal(["00080020", "00091011", "00091012", "00091013"], answer.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("escaped name", answer.RootElement.GetProperty("00091013").GetProperty("Value")[0].GetString());
    }

    [Fact]
    public void Brackets_quotes_and_escapes_inside_strings_do_not_end_a_value()
    {
        const string text = """
            {"00081032": {"vr": "SQ", "Value": [{"00080104": {"vr": "LO", "Value": ["a } b ] c { [ \" \\"]}}, {}]}, "00091001": 12.5, "00091002": "x,}", "00091003": [], "00091004": null}
            """;
        var stored = StoredAttributes.FromUtf8(Encoding.UTF8.GetBytes(text));
        using var oracle = JsonDocument.Parse(text);

        Assert.Equal(5, stored.Count);
        foreach (var member in oracle.RootElement.EnumerateObject())
        {
            Assert.True(stored.TryGet(member.Name, out var value), member.Name);
            using var copied = JsonDocument.Parse(value);
            Assert.True(JsonElement.DeepEquals(member.Value, copied.RootElement), member.Name);
        }
    }

    [Theory]
    [InlineData("{\"00080020\": {\"vr\": \"DA\"")]
    [InlineData("""{"00080020" {"vr": "DA"}}""")]
    [InlineData("""{"00080020": {"vr": "DA"}""")]
    [InlineData("""{"00080020": {"vr": "DA"},""")]
    public void A_truncated_or_broken_object_is_refused_not_read_in_part(string text) =>
        Assert.ThrowsAny<JsonException>(() => StoredAttributes.FromUtf8(Encoding.UTF8.GetBytes(text)));

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    public void Text_that_is_not_an_object_has_no_members(string json)
    {
        var stored = StoredAttributes.FromUtf8(Encoding.UTF8.GetBytes(json));

        Assert.Equal(0, stored.Count);
        Assert.False(stored.TryGet("00080020", out _));
    }

    private static byte[] Written(QidoDataset dataset)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            dataset.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
