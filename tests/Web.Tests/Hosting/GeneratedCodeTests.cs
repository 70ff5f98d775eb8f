using System.Net;
using EventSourced.Web.Tests.Architecture;
using EventSourced.Web.Tests.Support;
using JasperFx.CodeGeneration;
using JasperFx.CodeGeneration.Model;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourced.Web.Tests.Hosting;

/// <summary>
/// Wolverine's handler code is generated before the build into src/Web/Generated (eng/codegen.sh) and loaded
/// by the service without a compiler (docs/architecture.md, "Code generation: Static"): the committed code must
/// be what the handlers generate today, and the service process must run on it with no Roslyn loaded.
/// </summary>
public sealed class GeneratedCodeTests : IAsyncLifetime
{
    private readonly ScratchSpace scratch = new("codegen");

    public Task InitializeAsync() => scratch.InitializeAsync();

    public Task DisposeAsync() => scratch.DisposeAsync();

    [Fact]
    public async Task The_committed_generated_code_is_what_the_handlers_generate_now()
    {
        await using var app = new AppFactory(scratch.ConnectionString);
        var generated = Generate(app.Services);
        var folder = Path.Combine(NamespaceFolderTests.RepoRoot, "src", "Web", "Generated");
        var committed = Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*.cs", SearchOption.AllDirectories)
                .ToDictionary(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'), f => WithoutAotRoots(File.ReadAllText(f)))
            : [];

        var stale = generated.Keys.Union(committed.Keys).Order(StringComparer.Ordinal)
            .Where(file => generated.GetValueOrDefault(file) != committed.GetValueOrDefault(file))
            .Select(file => !committed.ContainsKey(file) ? $"missing {file}" : !generated.ContainsKey(file) ? $"left over {file}"
                : $"differs {file}: {FirstDifference(committed[file], generated[file])}")
            .ToList();
        Assert.True(stale.Count == 0,
            $"src/Web/Generated is not what the handlers generate now; run `bash eng/codegen.sh` and commit src/Web/Generated:\n  {string.Join("\n  ", stale)}");
    }

    [Fact]
    public async Task The_service_process_stores_and_finds_an_instance_on_the_pre_generated_code_without_loading_Roslyn()
    {
        await using var service = new ServiceProcess(scratch.ConnectionString, scratch.Folder);
        var output = await service.RunCliAsync("tenants", "ensure", "codegen", "--scopes", "studies.read,studies.write");
        var key = output.Split("Authorization: ")[1].Split('\n')[0].Trim();
        await service.StartAsync();

        using var http = new HttpClient { BaseAddress = service.BaseAddress };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        var (bytes, study, _, _) = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/dicomweb/studies", Multipart.Related(bytes))).StatusCode);
        var found = await http.GetStringAsync($"/dicomweb/studies?StudyInstanceUID={study}");
        Assert.Contains(study, found);

        var loaded = File.ReadAllLines($"/proc/{service.ProcessId}/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .Where(path => path.EndsWith(".dll", StringComparison.Ordinal)).Select(Path.GetFileName).Distinct().ToList();
        Assert.Contains("EventSourced.Web.dll", loaded);
        Assert.DoesNotContain(loaded, name => name!.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) || name.StartsWith("JasperFx.RuntimeCompiler", StringComparison.Ordinal));
    }

    /// <summary>
    /// The registry file's Native AOT rooting class, which <c>codegen write</c> alone adds (it lists the generated
    /// handler types again, so a handler added or removed still shows as a missing or left-over file).
    /// </summary>
    private static string WithoutAotRoots(string code)
    {
        var (start, end) = (code.IndexOf("    // START: AotRoots", StringComparison.Ordinal), code.IndexOf("    // END: AotRoots", StringComparison.Ordinal));
        if (start < 0 || end < start)
        {
            return code;
        }

        var rest = code[(code.IndexOf('\n', end) + 1)..].Split('\n').SkipWhile(string.IsNullOrWhiteSpace);
        return code[..start] + string.Join('\n', rest);
    }

    private static string FirstDifference(string committed, string generated)
    {
        var (was, now) = (committed.Split('\n'), generated.Split('\n'));
        var line = Enumerable.Range(0, Math.Min(was.Length, now.Length)).FirstOrDefault(i => was[i] != now[i], Math.Min(was.Length, now.Length));
        string At(string[] lines) => line < lines.Length ? lines[line].Trim() : "(end of file)";
        return $"line {line + 1} is `{At(was)}`, the handlers generate `{At(now)}`";
    }

    /// <summary>
    /// What <c>codegen write</c> writes, file by file, keyed by the path under src/Web/Generated: the same calls
    /// on the collections of a host built from Program (JasperFx's DynamicCodeBuilder is not used because it
    /// flips a process-wide "inside the codegen command" switch the other test hosts would see).
    /// </summary>
    private static Dictionary<string, string> Generate(IServiceProvider services)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var variables = services.GetService<IServiceVariableSource>();
        foreach (var collection in services.GetServices<ICodeFileCollection>())
        {
            foreach (var file in collection.BuildFiles())
            {
                var assembly = collection.StartAssembly(collection.Rules);
                file.AssembleTypes(assembly);
                var code = assembly.GenerateCode(collection is ICodeFileCollectionWithServices ? variables : null);
                files[$"{collection.ChildNamespace}/{file.FileName.Replace(" ", "_")}.cs"] = code;
            }
        }

        return files;
    }
}
