using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourced.Dicom;
using EventSourced.Projections.Qido;

namespace EventSourced.Web.Tests.Qido;

/// <summary>
/// The study and series levels' attributes taken from a stored header give, byte for byte, the JSON object that
/// a JsonObject built attribute by attribute (each value parsed from its raw text, names upper-cased, a repeated
/// name replacing the earlier value in its place) serialises to: headers of the pydicom corpus (person names,
/// sequences, numbers, non-ASCII text) and a hand-written header with lower-case and repeated names.
/// </summary>
public sealed class QidoAttributesSelectTests
{
    public static TheoryData<string> CorpusFiles() =>
        [.. Directory.EnumerateFiles(QidoSupport.CorpusFolder, "*.dcm").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).Take(60)];

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void A_corpus_header_gives_the_same_bytes_at_both_levels(string name)
    {
        JsonElement header;
        try
        {
            header = QidoSupport.FromCorpus(name).Header;
        }
        catch (Exception e) when (e is DicomFormatException or IOException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            return; // a file the codec refuses is not a header the projections ever see
        }

        AssertSameAsObject(header, QidoAttributes.StudyLevel);
        AssertSameAsObject(header, QidoAttributes.SeriesLevel);
    }

    [Fact]
    public void Lower_case_and_repeated_names_are_upper_cased_and_the_last_value_keeps_the_first_place()
    {
        var header = JsonDocument.Parse("""
            {"00080005":{"vr":"CS","Value":["ISO_IR 192"]},"0020000d":{"vr":"UI","Value":["1.2.3"]},
             "00100010":{"vr":"PN","Value":[{"Alphabetic":"M\u00fcller^J\u00f6rg","Ideographic":"\u5c71\u7530"}]},
             "00200010":{"vr":"SH","Value":["first"]},"00080060":{"vr":"CS","Value":["CT"]},
             "00200010":{"vr":"SH","Value":["second \"quoted\" <b>"]},"00081032":{"vr":"SQ","Value":[{"00080100":{"vr":"SH","Value":["X"]}}]},
             "00101030":{"vr":"DS","Value":[72.50]},"0020000D":{"vr":"UI","Value":["1.2.4"]}}
            """).RootElement;

        var study = QidoAttributes.Select(header, QidoAttributes.StudyLevel);
        Assert.Equal(
            ["00080005", "0020000D", "00100010", "00200010", "00081032", "00101030"],
            study.EnumerateObject().Select(p => p.Name));
        Assert.Equal("1.2.4", study.GetProperty("0020000D").GetProperty("Value")[0].GetString());
        Assert.Equal("second \"quoted\" <b>", study.GetProperty("00200010").GetProperty("Value")[0].GetString());
        AssertSameAsObject(header, QidoAttributes.StudyLevel);
        AssertSameAsObject(header, QidoAttributes.SeriesLevel);
    }

    private static void AssertSameAsObject(JsonElement header, IReadOnlySet<string> level)
    {
        var expected = new JsonObject();
        foreach (var attribute in header.EnumerateObject())
        {
            if (level.Contains(attribute.Name.ToUpperInvariant()))
            {
                expected[attribute.Name.ToUpperInvariant()] = JsonNode.Parse(attribute.Value.GetRawText());
            }
        }

        Assert.Equal(
            JsonSerializer.Serialize(JsonSerializer.SerializeToElement(expected)),
            JsonSerializer.Serialize(QidoAttributes.Select(header, level)));
    }
}
