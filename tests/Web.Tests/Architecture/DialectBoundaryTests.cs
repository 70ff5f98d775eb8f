using System.Text.RegularExpressions;

namespace EventSourced.Web.Tests.Architecture;

/// <summary>
/// The map of src/Web (docs/architecture.md, "The map of src/Web"): a dialect folder serves one API
/// document or standard and depends on Shared, Security and Infrastructure only, never on another
/// dialect; Shared, Security and Infrastructure depend on no dialect. Checked on the source: every file's
/// namespace is its folder and nothing uses a global using, so naming a type of another folder means
/// writing that folder's namespace.
/// </summary>
public sealed partial class DialectBoundaryTests
{
    /// <summary>The folders of src/Web that each serve one document (a–e) or standard.</summary>
    public static readonly string[] Dialects = ["Reports", "Ingestion", "DicomService", "Archive", "Pacs", "DicomWeb", "Admin"];

    /// <summary>The folders every dialect may use.</summary>
    public static readonly string[] Common = ["Shared", "Security", "Infrastructure"];

    private static readonly string WebRoot = FindWebRoot();

    [Fact]
    public void Every_top_folder_of_src_Web_is_a_dialect_or_common_or_the_command_line_or_generated_code()
    {
        var folders = Directory.GetDirectories(WebRoot).Select(Path.GetFileName)
            .Where(f => f is not ("bin" or "obj" or "Properties")).Order().ToList();
        Assert.Equal([.. Dialects.Concat(Common).Append("Cli").Append("Generated").Order()], folders);
    }

    [Fact]
    public void A_dialect_references_no_type_of_another_dialect()
    {
        var offences = new List<string>();
        foreach (var dialect in Dialects)
        {
            var others = Dialects.Where(d => d != dialect).ToArray();
            foreach (var file in SourceFiles(dialect))
            {
                offences.AddRange(References(file, others).Select(r => $"{Relative(file)} uses {r}"));
            }
        }

        Assert.Empty(offences);
    }

    [Fact]
    public void Shared_Security_and_Infrastructure_reference_no_dialect()
    {
        var offences = Common.SelectMany(SourceFiles)
            .SelectMany(file => References(file, Dialects).Select(r => $"{Relative(file)} uses {r}"))
            .ToList();
        Assert.Empty(offences);
    }

    [Fact]
    public void Every_namespace_is_its_folder_and_there_are_no_global_usings()
    {
        var offences = new List<string>();
        foreach (var file in Directory.GetFiles(WebRoot, "*.cs", SearchOption.AllDirectories).Where(IsSource))
        {
            var text = File.ReadAllText(file);
            if (GlobalUsing().IsMatch(text))
            {
                offences.Add($"{Relative(file)} has a global using");
            }

            var folder = Path.GetDirectoryName(Path.GetRelativePath(WebRoot, file))!;
            if (folder.Length == 0)
            {
                continue; // Program.cs: top-level statements
            }

            var expected = "EventSourced.Web." + folder.Replace(Path.DirectorySeparatorChar, '.');
            var declared = Namespace().Matches(text).Select(m => m.Groups[1].Value).ToList();
            if (declared.Count != 1 || declared[0] != expected)
            {
                offences.Add($"{Relative(file)} declares {string.Join(", ", declared)}, not {expected}");
            }
        }

        Assert.Empty(offences);
    }

    [Fact]
    public void The_check_sees_a_reference_to_another_dialect()
    {
        // The scan itself: a using, a qualified name and a using alias are found; a longer name is not.
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """
                using EventSourced.Web.Pacs;
                using Z = EventSourced.Web.Reports.OrderStatusResponse;
                var x = EventSourced.Web.DicomWeb.Qido.QidoModule.X;
                var y = EventSourced.Web.PacsLike.Y;
                // EventSourced.Web.Archive in a comment counts too: it would mislead a reader.
                """);
            Assert.Equal(["Archive", "DicomWeb", "Pacs", "Reports"], References(file, Dialects).Order());
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static IEnumerable<string> References(string file, IReadOnlyCollection<string> folders)
    {
        var text = File.ReadAllText(file);
        return WebNamespace().Matches(text).Select(m => m.Groups[1].Value).Where(folders.Contains).Distinct();
    }

    private static IEnumerable<string> SourceFiles(string folder)
    {
        var path = Path.Combine(WebRoot, folder);
        Assert.True(Directory.Exists(path), $"src/Web/{folder} is missing");
        return Directory.GetFiles(path, "*.cs", SearchOption.AllDirectories).Where(IsSource);
    }

    private static bool IsSource(string file)
    {
        var relative = Path.GetRelativePath(WebRoot, file).Split(Path.DirectorySeparatorChar);
        return relative[0] is not ("bin" or "obj");
    }

    private static string Relative(string file) => Path.GetRelativePath(WebRoot, file);

    private static string FindWebRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var web = Path.Combine(dir.FullName, "src", "Web");
            if (File.Exists(Path.Combine(web, "EventSourced.Web.csproj")))
            {
                return web;
            }
        }

        throw new InvalidOperationException($"No src/Web above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"\bEventSourced\.Web\.(\w+)\b")]
    private static partial Regex WebNamespace();

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*[;{]", RegexOptions.Multiline)]
    private static partial Regex Namespace();

    [GeneratedRegex(@"^\s*global\s+using\b", RegexOptions.Multiline)]
    private static partial Regex GlobalUsing();
}
