using System.Net.Http.Headers;
using EventSourced.Application.Tenants;
using EventSourced.Domain.Common;
using EventSourced.Domain.Tenants;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace EventSourced.Web.Tests.Support;

/// <summary>The real service (Program) in process, over real HTTP semantics, on a test class's own database.</summary>
public sealed class AppFactory(string connectionString, IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    : WebApplicationFactory<Program>
{
    static AppFactory()
    {
        // Should Program take the RunJasperFxCommands path under WebApplicationFactory, the host must still start.
        JasperFx.CommandLine.JasperFxEnvironment.AutoStartHost = true;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:EventStore", connectionString);
        // appsettings.json binds 127.0.0.1:5080 for the real service; tests on Kestrel take a free port.
        builder.UseSetting("Urls", "http://127.0.0.1:0");
        builder.UseSetting("EventStore:ScheduledJobPollingTime", "00:00:00.500");
        builder.UseSetting("Blobs:Root", blobRoot);
        builder.UseSetting("Logging:Console:FormatterName", "simple");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        // Many short-lived hosts: each compiles only the handlers its tests use (StartupWarmUpTests turn it on).
        builder.UseSetting("Hosting:WarmUp", "false");
        // The service loads the committed pre-generated handler code (TypeLoadMode.Static); test hosts generate
        // and compile it from the handlers as they are, so a changed handler is tested before eng/codegen.sh runs
        // (GeneratedCodeTests says when the committed code is stale; StaticCodeGenerationTests boots it as shipped).
        builder.UseSetting("Hosting:CodeGeneration", nameof(JasperFx.CodeGeneration.TypeLoadMode.Dynamic));
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        if (settings?.GetValueOrDefault("Hosting:CodeGeneration") is not nameof(JasperFx.CodeGeneration.TypeLoadMode.Static))
        {
            builder.ConfigureServices(s => s.AddWolverineRuntimeCompilation());
        }

        if (services is not null)
        {
            builder.ConfigureServices(services);
        }
    }

    public string BlobRoot => blobRoot;

    private readonly string blobRoot = Path.Combine(Path.GetTempPath(), "eventsourced-test-blobs", Guid.NewGuid().ToString("N"));

    public IDocumentStore Store => Services.GetRequiredService<IDocumentStore>();

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(blobRoot))
        {
            Directory.Delete(blobRoot, recursive: true);
        }
    }

    /// <summary>Registers the tenant if needed and returns a client holding a fresh API key with the given scopes.</summary>
    public async Task<HttpClient> ClientForTenantAsync(string tenantId, params string[] scopes)
    {
        var key = await IssueKeyAsync(tenantId, scopes.Length == 0 ? [.. Scopes.All] : scopes);
        var client = CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        return client;
    }

    public async Task<string> IssueKeyAsync(string tenantId, IReadOnlyList<string> scopes)
    {
        var by = new Actor("tests", "tests");
        await TenantAdministration.RegisterTenantAsync(Store, tenantId, tenantId, by, DateTimeOffset.UtcNow, CancellationToken.None);
        var (issued, rejected) = await TenantAdministration.IssueApiKeyAsync(Store, tenantId, $"{tenantId}-client", scopes, by, DateTimeOffset.UtcNow, CancellationToken.None);
        return issued?.Key ?? throw new InvalidOperationException(rejected!.Detail);
    }
}

/// <summary>A test class's database and service, started once for the class.</summary>
public class ServiceFixture : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public AppFactory App { get; private set; } = null!;

    public string ConnectionString => database.ConnectionString;

    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();

    /// <summary>Test-only services (e.g. a Carter module) added to the app.</summary>
    protected virtual Action<IServiceCollection>? Services => null;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        App = new AppFactory(database.ConnectionString, Settings, Services);
        App.CreateClient().Dispose(); // start the host now, not inside the first test's timing
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await database.DisposeAsync();
    }
}

public static class Eventually
{
    /// <summary>Polls until the condition holds; fails with the last observed value after the timeout. For asynchronous outcomes only.</summary>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T last;
        do
        {
            last = await probe();
            if (done(last))
            {
                return last;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"Timed out after {timeout} waiting for {what}; last seen: {last}");
    }
}

public static class Json
{
    public static StringContent Body(string json, string contentType = "text/json; charset=utf-8") =>
        new(json, System.Text.Encoding.UTF8, MediaTypeHeaderValue.Parse(contentType).MediaType!)
        {
            Headers = { ContentType = MediaTypeHeaderValue.Parse(contentType) },
        };
}
