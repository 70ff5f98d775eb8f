using Marten;
using Npgsql;
using Wolverine.Runtime;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Does at start-up what would otherwise stall the first request of each kind: attaching each Wolverine
/// handler chain to its handler type (pre-generated and loaded under <c>TypeLoadMode.Static</c>, the
/// service's mode; generated and compiled with Roslyn under <c>Dynamic</c>, the test hosts' mode), Marten's
/// storage of every document type and the event store, the connection pool's first connections, and the
/// retrieval endpoints (<see cref="RetrievalWarmUp"/>) and STOW-RS (<see cref="StowWarmUp"/>).
/// Registered after Wolverine and Marten, so it runs once they have started and before Kestrel accepts; the
/// retrieval endpoints, which exist only once the web host has started, run after Kestrel starts and before
/// readiness (<see cref="WarmUpGate"/>).
/// <c>Hosting:WarmUp=false</c> skips it (the test suite's many short-lived hosts compile only what they use).
/// </summary>
public sealed class StartupWarmUp(IServiceProvider services, IConfiguration configuration, WarmUpGate gate, ILogger<StartupWarmUp> logger) : IHostedLifecycleService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!configuration.GetValue("Hosting:WarmUp", true))
        {
            gate.Open();
            return;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var attached = services.GetRequiredService<IWolverineRuntime>() is WolverineRuntime wolverine ? AttachHandlers(wolverine.Handlers) : 0;

        var store = services.GetRequiredService<IDocumentStore>();
        foreach (var documentType in store.Options.AllKnownDocumentTypes().Select(d => d.DocumentType))
        {
            await store.Storage.Database.EnsureStorageExistsAsync(documentType, cancellationToken);
        }

        // Opens a few of the pool's connections (and loads PostgreSQL's types into the data source) now.
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            await using var command = dataSource.CreateCommand("select 1");
            await command.ExecuteScalarAsync(cancellationToken);
        }));

        // Retrieval's own pool (Shared/Retrieval/RetrievalReads) likewise, its statements prepared.
        await services.GetRequiredService<EventSourced.Web.Shared.Retrieval.RetrievalReads>().WarmUpAsync(4, cancellationToken);

        ReleaseStartupGarbage();
        logger.LogInformation("Warmed up in {Elapsed} ms: {Handlers} handler chains attached", clock.ElapsedMilliseconds, attached);
    }

    /// <summary>
    /// Start-up leaves garbage behind: managed (collected, but the GC keeps the pages committed) and native
    /// (scratch memory freed into glibc's heap, which keeps it). Handing both back once lowers the resident
    /// memory the service starts its work with (docs/benchmarks.md, "Read path and memory").
    /// </summary>
    private static void ReleaseStartupGarbage()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (OperatingSystem.IsLinux())
        {
            GlibcHeap.Trim();
        }
    }

    /// <summary>
    /// Once the web host has started (its endpoints exist only then): the retrieval endpoints and the read models' JSON
    /// contracts (<see cref="RetrievalWarmUp"/>), then STOW-RS (<see cref="StowWarmUp"/>), the garbage of each handed back,
    /// then readiness (<see cref="WarmUpGate"/>).
    /// (Handed back after each step: once only, after both, the peak resident memory at start-up was about 19 MB higher.) Kestrel already accepts; a
    /// request that comes before readiness is served, and pays for what is not compiled yet.
    /// </summary>
    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        if (gate.IsOpen)
        {
            return;
        }

        await StepAsync("Retrieval", "endpoints run", RetrievalWarmUp.RunAsync, cancellationToken);
        ReleaseStartupGarbage();
        await StepAsync("STOW", "studies stored and rolled back", StowWarmUp.RunAsync, cancellationToken);
        ReleaseStartupGarbage();
        gate.Open();
    }

    /// <summary>
    /// One warm-up step, logged with its wall time, the process's CPU time and what it ran. A failure is logged and
    /// does not hold readiness back: only compilation ahead of time is lost, the first requests compile what they use.
    /// </summary>
    private async Task StepAsync(string name, string counted, Func<IServiceProvider, CancellationToken, Task<int>> step, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var cpu = Environment.CpuUsage.TotalTime;
        try
        {
            var count = await step(services, cancellationToken);
            logger.LogInformation("{Step} warmed up in {Elapsed} ms ({Cpu} ms CPU of the process): {Count} {Counted}",
                name, clock.ElapsedMilliseconds, (long)(Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds, count, counted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The {Step} warm-up failed after {Elapsed} ms; readiness is not held back by it", name, clock.ElapsedMilliseconds);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The application's handler chains (not Wolverine's own), attached one after the other.</summary>
    private static int AttachHandlers(Wolverine.Runtime.Handlers.HandlerGraph handlers)
    {
        var ours = new[] { typeof(Program).Assembly, typeof(Application.ApplicationAssembly).Assembly };
        var chains = handlers.Chains.Where(c => ours.Contains(c.MessageType.Assembly)).ToList();
        foreach (var chain in chains)
        {
            handlers.HandlerFor(chain.MessageType);
        }

        return chains.Count;
    }
}
