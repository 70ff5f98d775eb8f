using EventSourced.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Wolverine.Runtime;

namespace EventSourced.Web.Tests.Hosting;

/// <summary>
/// The work of a first request is done before the host is ready: every application handler chain's
/// generated code is compiled and loaded by the time the service starts answering (no first STOW that
/// waits for Roslyn).
/// </summary>
public sealed class StartupWarmUpTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task Every_application_handler_chain_is_compiled_before_the_first_request()
    {
        await using var app = new AppFactory(database.ConnectionString, new Dictionary<string, string?> { ["Hosting:WarmUp"] = "true" });
        app.CreateClient().Dispose(); // starts the host: hosted services, then the server

        var handlers = ((WolverineRuntime)app.Services.GetRequiredService<IWolverineRuntime>()).Handlers;
        var ours = handlers.Chains.Where(c => c.MessageType.Assembly == typeof(Application.ApplicationAssembly).Assembly).ToList();
        Assert.Contains(ours, c => c.MessageType == typeof(Application.Ingestion.StoringInstances.StoreInstances));

        // Dynamic code generation loads each chain's generated handler type (named TypeName) from an in-memory assembly.
        var generated = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.IsDynamic || string.IsNullOrEmpty(a.Location))
            .SelectMany(a => { try { return a.GetTypes(); } catch (System.Reflection.ReflectionTypeLoadException e) { return e.Types.OfType<Type>().ToArray(); } })
            .Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        Assert.All(ours, chain => Assert.True(generated.Contains(chain.TypeName), $"{chain.TypeName} was not compiled at start-up"));
    }
}
