using System.Text.RegularExpressions;

namespace EventSourced.Web.Tests.Architecture;

/// <summary>
/// Namespace = folder (docs/architecture.md, "Layers and what references what"), in the layers above the codec
/// and in every test project: a file's namespace is its project's root namespace followed by its folder path,
/// so a reader finds a type from its name. Files at a project's root may use top-level statements (Program.cs).
/// </summary>
public sealed partial class NamespaceFolderTests
{
    internal static readonly string RepoRoot = FindRepoRoot();

    public static TheoryData<string, string> Projects() => new()
    {
        { "src/Domain", "EventSourced.Domain" },
        { "src/Application", "EventSourced.Application" },
        { "src/Projections", "EventSourced.Projections" },
        { "src/Web", "EventSourced.Web" },
        { "tests/Domain.Tests", "EventSourced.Domain.Tests" },
        { "tests/Dicom.Tests", "EventSourced.Dicom.Tests" },
        { "tests/Web.Tests", "EventSourced.Web.Tests" },
    };

    [Theory]
    [MemberData(nameof(Projects))]
    public void Every_namespace_is_its_folder(string project, string rootNamespace)
    {
        var root = Path.Combine(RepoRoot, project);
        var offences = new List<string>();
        foreach (var file in Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var folder = Path.GetDirectoryName(Path.GetRelativePath(root, file))!;
            var parts = folder.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 0 && parts[0] is "bin" or "obj")
            {
                continue;
            }

            var declared = Namespace().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value).ToList();
            if (parts.Length == 0 && declared.Count == 0)
            {
                continue; // top-level statements
            }

            var expected = string.Join('.', parts.Prepend(rootNamespace));
            if (declared.Count != 1 || declared[0] != expected)
            {
                offences.Add($"{project}/{Path.GetRelativePath(root, file)} declares {string.Join(", ", declared)}, not {expected}");
            }
        }

        Assert.Empty(offences);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "src", "Web", "EventSourced.Web.csproj")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No repository root above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*[;{]", RegexOptions.Multiline)]
    private static partial Regex Namespace();
}
