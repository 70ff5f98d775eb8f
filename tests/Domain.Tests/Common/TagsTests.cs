using System.Reflection;
using EventSourced.Dicom;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;

namespace EventSourced.Domain.Tests.Common;

public sealed class TagsTests
{
    private static IEnumerable<FieldInfo> Constants() =>
        typeof(Tags).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral);

    /// <summary>Domain's table and the codec's dictionary cannot drift: every constant is the codec's tag of the same keyword, as a DICOM JSON key.</summary>
    [Fact]
    public void Every_constant_equals_the_codec_tag_of_its_keyword()
    {
        var constants = Constants().ToList();
        Assert.True(constants.Count >= 80, $"{constants.Count} constants");
        foreach (var constant in constants)
        {
            var codec = typeof(DicomTags).GetProperty(constant.Name, BindingFlags.Public | BindingFlags.Static);
            Assert.True(codec is not null, $"DicomTags has no {constant.Name}");
            var tag = (DicomTag)codec.GetValue(null)!;
            Assert.Equal(tag.JsonKey(), (string)constant.GetRawConstantValue()!);
            Assert.Equal(constant.Name, DicomDictionary.KeywordOf(tag));
        }
    }

    [Fact]
    public void Keys_are_eight_upper_case_hex_digits_as_in_DICOM_JSON()
    {
        // PS3.18 F.2.1.1: the attribute name is the tag as eight upper-case hexadecimal characters.
        Assert.Equal("0020000D", Tags.StudyInstanceUID);
        Assert.Equal("0008103E", Tags.SeriesDescription);
        Assert.All(Constants(), c => Assert.Matches("^[0-9A-F]{8}$", (string)c.GetRawConstantValue()!));
    }

    /// <summary>HeaderMetadata is keyed by keyword; each keyword names its own tag.</summary>
    [Fact]
    public void Header_metadata_keywords_name_their_tags()
    {
        foreach (var (keyword, tag) in HeaderMetadata.TagsByKeyword)
        {
            Assert.Equal(DicomDictionary.TagOf(keyword)?.JsonKey(), tag);
        }
    }
}
