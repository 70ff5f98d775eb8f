using System.Net;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Tests.Support;
using JasperFx.CodeGeneration;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Wolverine.Runtime;

namespace EventSourced.Web.Tests.Hosting;

/// <summary>
/// The service as configured for production loads every application handler chain from the pre-generated
/// code compiled into EventSourced.Web (TypeLoadMode.Static), not from code compiled at run time: a handler
/// missing from src/Web/Generated fails here (the test process has a runtime compiler; the service has none,
/// GeneratedCodeTests).
/// </summary>
public sealed class StartupWarmUpTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task Every_application_handler_chain_runs_the_pre_generated_code_in_the_production_configuration()
    {
        await using var app = new AppFactory(database.ConnectionString, new Dictionary<string, string?>
        {
            ["environment"] = "Production",
            ["Hosting:CodeGeneration"] = nameof(TypeLoadMode.Static),
            ["Hosting:WarmUp"] = "true",
        });
        app.CreateClient().Dispose(); // starts the host: hosted services (the warm-up among them), then the server

        var handlers = ((WolverineRuntime)app.Services.GetRequiredService<IWolverineRuntime>()).Handlers;
        Assert.Equal(TypeLoadMode.Static, handlers.Rules.TypeLoadMode);
        var ours = handlers.Chains.Where(c => c.MessageType.Assembly == typeof(Application.ApplicationAssembly).Assembly
                                              || c.MessageType.Assembly == typeof(Program).Assembly).ToList();
        Assert.Contains(ours, c => c.MessageType == typeof(Application.Ingestion.StoringInstances.StoreInstances));

        // Each chain's handler is a type of the generated namespace, compiled into EventSourced.Web itself.
        Assert.All(ours, chain =>
        {
            var type = handlers.HandlerFor(chain.MessageType)?.GetType();
            Assert.True(type is not null, $"{chain.TypeName} has no handler");
            Assert.Equal(typeof(Program).Assembly, type!.Assembly);
            Assert.Equal("EventSourced.Web.Generated.WolverineHandlers", type.Namespace);
        });
    }

    [Fact]
    public async Task The_retrieval_warm_up_runs_both_endpoints_writes_nothing_and_holds_readiness_until_done()
    {
        await using var app = new AppFactory(database.ConnectionString, new Dictionary<string, string?>
        {
            ["environment"] = "Production",
            ["Hosting:CodeGeneration"] = nameof(TypeLoadMode.Static),
            ["Hosting:WarmUp"] = "true",
        });
        using var client = app.CreateClient(); // the host has started: the warm-up ran in its StartedAsync

        Assert.True(app.Services.GetRequiredService<WarmUpGate>().IsOpen);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        // Every endpoint it names exists and was run (a renamed route would make this 0 or 1), again here.
        Assert.Equal(RetrievalWarmUp.Endpoints.Count, await RetrievalWarmUp.RunAsync(app.Services, CancellationToken.None));

        // Read-only: nothing appended, no document written for its tenant.
        await using var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession();
        Assert.Equal(0, await session.Events.QueryAllRawEvents().CountAsync());
    }

    [Fact]
    public async Task Readiness_waits_for_the_warm_up_gate()
    {
        var gate = new WarmUpGate();
        var context = new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext();
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, (await gate.CheckHealthAsync(context)).Status);
        gate.Open();
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, (await gate.CheckHealthAsync(context)).Status);
    }
}
