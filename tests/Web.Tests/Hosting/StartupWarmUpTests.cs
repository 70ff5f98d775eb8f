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

        // Every endpoint it names exists and was run, and each success path answered 200 twice (a renamed route, or a
        // study the reads could not see, would lower the count), again here.
        Assert.Equal(RetrievalWarmUp.Endpoints.Count + RetrievalWarmUp.SuccessEndpoints.Count, await RetrievalWarmUp.RunAsync(app.Services, CancellationToken.None));

        // Read-only: nothing appended, no document written for its tenant.
        await using var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession();
        Assert.Equal(0, await session.Events.QueryAllRawEvents().CountAsync());
    }

    [Fact]
    public async Task The_success_path_and_stow_warm_ups_leave_no_event_stream_document_blob_or_feed_entry_on_an_empty_database()
    {
        var temporary = WarmUpFolders();
        await using var app = new AppFactory(database.ConnectionString, new Dictionary<string, string?>
        {
            ["environment"] = "Production",
            ["Hosting:CodeGeneration"] = nameof(TypeLoadMode.Static),
            ["Hosting:WarmUp"] = "true",
        });
        using var client = app.CreateClient();
        Assert.True(app.Services.GetRequiredService<WarmUpGate>().IsOpen);
        Assert.Equal(RetrievalWarmUp.Endpoints.Count + RetrievalWarmUp.SuccessEndpoints.Count, await RetrievalWarmUp.RunAsync(app.Services, CancellationToken.None));
        // STOW-RS: both studies answered 200 (stored, then rolled back), again here.
        Assert.Equal(2, await StowWarmUp.RunAsync(app.Services, CancellationToken.None));

        // No event, no stream, no row in any table of the product's documents (read models, the study feed's among them).
        Assert.Equal(0, await EventLog.CountAsync(database.ConnectionString));
        Assert.Equal(0, await CountAsync("select count(*) from eventsourced.mt_streams"));
        var tables = DocumentTables(app.Store);
        Assert.Contains("eventsourced.mt_doc_qidoinstance", tables);
        Assert.Contains(tables, t => t.Contains("feed", StringComparison.OrdinalIgnoreCase));
        foreach (var table in tables)
        {
            Assert.True(await CountAsync($"select count(*) from {table}") == 0, $"{table} holds a row after the warm-up");
        }

        // No blob in the service's store, no temporary blob store left behind.
        Assert.Empty(Directory.EnumerateFiles(app.BlobRoot, "*", SearchOption.AllDirectories));
        // Another test's service may be warming up at this moment, in a folder of its own that it removes when done:
        // a folder that stays past that is one this warm-up left.
        var left = WarmUpFolders().Except(temporary).ToList();
        for (var waited = 0; left.Count > 0 && waited < 60; waited++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            left = left.Where(Directory.Exists).ToList();
        }

        Assert.Empty(left);
    }

    [Fact]
    public async Task A_service_warmed_up_on_a_database_that_holds_studies_starts_and_answers_as_before()
    {
        await using var stored = new AppFactory(database.ConnectionString);
        var client = await stored.ClientForTenantAsync("warm-up-held-data");
        var (file, study, series, sop) = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(file))).StatusCode);
        var instance = await Retrieval.RetrievalCacheTests.InstanceAsync(client, study, series, sop);
        var metadata = await Retrieval.RetrievalCacheTests.MetadataAsync(client, study);
        var key = await stored.IssueKeyAsync("warm-up-held-data", [Domain.Tenants.Scopes.StudiesRead]);
        var events = await EventLog.SettledCountAsync(database.ConnectionString);
        var tables = DocumentTables(stored.Store);
        // The read models once the asynchronous ones (the study feed) have caught up: two reads a second apart agree.
        var (rows, _) = await Eventually.Until(async () =>
        {
            var first = await RowsAsync(tables);
            await Task.Delay(1000);
            return (First: first, Second: await RowsAsync(tables));
        }, r => r.First.SequenceEqual(r.Second), TimeSpan.FromSeconds(30), "the read models to settle");
        Assert.Contains(rows, r => r.StartsWith("eventsourced.mt_doc_qidoinstance ", StringComparison.Ordinal));
        var blobs = BlobFiles(stored.BlobRoot);
        Assert.NotEmpty(blobs);

        // A second service on the same database and blob store (the first stays up: disposing it would delete its blob folder).
        await using var warmed = new AppFactory(database.ConnectionString, new Dictionary<string, string?>
        {
            ["environment"] = "Production",
            ["Hosting:CodeGeneration"] = nameof(TypeLoadMode.Static),
            ["Hosting:WarmUp"] = "true",
            ["Blobs:Root"] = stored.BlobRoot,
        });
        using var reader = warmed.CreateClient();
        reader.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        Assert.True(warmed.Services.GetRequiredService<WarmUpGate>().IsOpen);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(RetrievalWarmUp.Endpoints.Count + RetrievalWarmUp.SuccessEndpoints.Count, await RetrievalWarmUp.RunAsync(warmed.Services, CancellationToken.None));
        Assert.Equal(2, await StowWarmUp.RunAsync(warmed.Services, CancellationToken.None));

        // The stored study is served as before; the log, the read models and the blob store are as they were.
        Assert.Equal(instance!.GetString(Dicom.DicomTags.SOPInstanceUID), (await Retrieval.RetrievalCacheTests.InstanceAsync(reader, study, series, sop))!.GetString(Dicom.DicomTags.SOPInstanceUID));
        Assert.Equal(metadata, await Retrieval.RetrievalCacheTests.MetadataAsync(reader, study));
        Assert.Equal(events, await EventLog.CountAsync(database.ConnectionString));
        Assert.Equal(rows, await RowsAsync(tables));
        Assert.Equal(blobs, BlobFiles(stored.BlobRoot));
    }

    /// <summary>The tables of the product's own documents (read models and the feed; not Marten's or Wolverine's).</summary>
    private static List<string> DocumentTables(IDocumentStore store) =>
        [.. store.Options.AllKnownDocumentTypes().Select(d => d.DocumentType).Distinct()
            .Where(t => t.Namespace?.StartsWith("EventSourced.", StringComparison.Ordinal) == true)
            .Select(t => store.Options.FindOrResolveDocumentType(t).TableName.QualifiedName)];

    /// <summary>Every row of the tables, whole (bookkeeping columns included: a row rewritten with the same document differs).</summary>
    private async Task<List<string>> RowsAsync(IEnumerable<string> tables)
    {
        await using var connection = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        var rows = new List<string>();
        foreach (var table in tables)
        {
            await using var command = new Npgsql.NpgsqlCommand($"select '{table} ' || t::text from {table} t order by 1", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add(reader.GetString(0));
            }
        }

        return rows;
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static List<string> BlobFiles(string root) =>
        [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order()];

    private static HashSet<string> WarmUpFolders() => [.. Directory.EnumerateDirectories(Path.GetTempPath(), "eventsourced-warm-up-*")];

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
