using System.Globalization;
using System.Text.RegularExpressions;
using EventSourced.Dicom;

namespace EventSourced.Web.Tests.Architecture;

/// <summary>
/// Tags are written by keyword, never as hex strings (docs/architecture.md): <c>DicomTags.PatientID.JsonKey()</c>
/// where the codec is referenced, Domain's generated <c>Tags.PatientID</c> in Domain and Projections. Checked on
/// the source of src/: a string literal of eight hex digits that the dictionary knows as a tag fails, outside
/// the codec (src/Dicom) and the generated table (src/Domain/Common/Tags.g.cs).
/// </summary>
public sealed partial class NamedTagsTests
{
    private static readonly string SrcRoot = FindSrcRoot();

    [Fact]
    public void No_hex_tag_string_outside_the_codec_and_the_generated_table()
    {
        var offences = Directory.GetFiles(SrcRoot, "*.cs", SearchOption.AllDirectories)
            .Where(IsChecked)
            .SelectMany(file => HexTags(File.ReadAllText(file)).Select(t => $"{Path.GetRelativePath(SrcRoot, file)}: {t}"))
            .ToList();
        Assert.Empty(offences);
    }

    [Fact]
    public void The_check_sees_a_hex_tag_and_ignores_other_eight_digit_strings()
    {
        const string text = """
            var a = First(header, "00100020");
            var b = header["0020000d"];
            var c = "20261205"; // a date, not a tag
            /// <c>00100010</c> in a comment is documentation, not a literal
            """;
        Assert.Equal(["\"00100020\" is PatientID", "\"0020000d\" is StudyInstanceUID"], HexTags(text));
    }

    /// <summary>Each literal of eight hex digits that names a tag of the dictionary, with its keyword.</summary>
    private static List<string> HexTags(string text) =>
        [.. HexLiteral().Matches(text)
            .Select(m => (Literal: m.Value, Keyword: DicomDictionary.KeywordOf(new DicomTag(uint.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)))))
            .Where(x => x.Keyword is not null)
            .Select(x => $"{x.Literal} is {x.Keyword}")];

    private static bool IsChecked(string file)
    {
        var relative = Path.GetRelativePath(SrcRoot, file).Replace(Path.DirectorySeparatorChar, '/');
        var parts = relative.Split('/');
        return parts[0] != "Dicom"
            && relative != "Domain/Common/Tags.g.cs"
            && !parts.Contains("bin") && !parts.Contains("obj");
    }

    private static string FindSrcRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var src = Path.Combine(dir.FullName, "src");
            if (File.Exists(Path.Combine(src, "Web", "EventSourced.Web.csproj")))
            {
                return src;
            }
        }

        throw new InvalidOperationException($"No src above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex("\"([0-9A-Fa-f]{8})\"")]
    private static partial Regex HexLiteral();
}
