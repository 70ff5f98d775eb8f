namespace EventSourced.Dicom.Tests;

/// <summary>The per-file expectations of TestData/corpus.tsv.</summary>
public sealed record CorpusCase(string File, string Outcome, string Oracle, string Reason)
{
    public string FullPath => Oracles.CorpusPath(File);

    public override string ToString() => File;

    public static IReadOnlyList<CorpusCase> All { get; } = File_ReadCases();

    private static List<CorpusCase> File_ReadCases() =>
        [.. System.IO.File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "TestData", "corpus.tsv"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t'))
            .Select(p => new CorpusCase(p[0], p[1], p[2], p[3]))];

    public static TheoryData<string> Parsing() => [.. All.Where(c => c.Outcome == "parse").Select(c => c.File)];
    public static TheoryData<string> Failing() => [.. All.Where(c => c.Outcome == "error").Select(c => c.File)];
    public static TheoryData<string> Every() => [.. All.Select(c => c.File)];

    public static CorpusCase Get(string file) => All.Single(c => c.File == file);
}
