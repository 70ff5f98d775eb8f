using Carter;
using EventSourced.Application.Blobs;
using EventSourced.Web.Infrastructure.Blobs;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace EventSourced.Web.Infrastructure;

public static class WebSetup
{
    /// <summary>
    /// The host <c>WebApplication.CreateBuilder</c> would make, less IIS (a Windows server) and HTTP/3 over QUIC (no
    /// endpoint here offers it), whose assemblies the full builder loads into every process: the slim builder with
    /// what it leaves out and the service keeps (docs/architecture.md, "Start-up footprint: the web host without IIS
    /// and QUIC"). Kept: HTTPS endpoints and certificates from configuration (<c>Kestrel:Endpoints</c>), the regex
    /// route constraint, metrics rules from the <c>Metrics</c> section, the console, debug and EventSource logging
    /// providers with the console formatter that <c>Logging:Console:FormatterName</c> chooses (the slim builder fixes
    /// it to "simple"). Configuration sources,
    /// host filtering (<c>AllowedHosts</c>), forwarded headers, metrics and the Development service-provider checks
    /// are the same in both builders. Not kept: hosting-startup assemblies (<c>ASPNETCORE_HOSTINGSTARTUPASSEMBLIES</c>)
    /// and static web assets in Development, which nothing here uses.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.Services.AddRouting();
        builder.Metrics.AddConfiguration(builder.Configuration.GetSection("Metrics"));
        builder.Logging.ClearProviders();
        builder.Services.RemoveAll<IConfigureOptions<ConsoleLoggerOptions>>();
        builder.Logging.AddConsole().AddDebug().AddEventSourceLogger();
        return builder;
    }

    public static WebApplicationBuilder AddWebServices(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<HostOptions>(options =>
            options.ShutdownTimeout = builder.Configuration.GetValue("Hosting:ShutdownTimeout", TimeSpan.FromSeconds(30)));
        // Hosting:InlineScheduling (off by default): a request runs on the thread that received its bytes instead of
        // being handed on through Kestrel's I/O queue and then the thread pool. Alone it measured no fewer wake-ups;
        // with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 in the process's environment (socket completions run on
        // the socket engine's threads) a WADO-RS instance request wakes a thread about once instead of about three
        // times. Both are off because request code then runs on the engine's threads: a synchronous wait there (the
        // S3 blob store's) can deadlock, and a long request delays every socket of its engine (docs/architecture.md,
        // "Hosting: requests on the thread that read them").
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(options =>
            options.UnsafePreferInlineScheduling = builder.Configuration.GetValue("Hosting:InlineScheduling", false));

        builder.Services.AddProblemDetails();
        builder.Services.AddBrowserAccess(builder.Configuration);
        builder.Services.AddExceptionHandler<UnhandledExceptionHandler>();

        builder.Services.AddSingleton<ApiKeyCache>();
        // API key (document e), OAuth2 bearer (a, b), X-USERNAME/X-PASSWORD (d), behind one selecting scheme.
        builder.Services.AddPrincipalSchemes(builder.Configuration);
        // AddAuthentication brings ASP.NET Core's data protection, whose hosted service reads (or first creates) the
        // XML key ring at start-up. Nothing here protects data with it (the service signs with its own key rings), so
        // the key ring and the XML stack are left to a first use that does not come (docs/architecture.md, "Start-up footprint").
        foreach (var keyRingLoader in builder.Services.Where(IsKeyRingLoader).ToList())
        {
            builder.Services.Remove(keyRingLoader);
        }
        builder.Services.AddAuthorization(options =>
        {
            // Every route needs a principal unless it says otherwise (health and the API reference).
            options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
            foreach (var scope in Scopes.All)
            {
                options.AddPolicy(scope, policy => policy.RequireAuthenticatedUser().RequireClaim(Principal.ScopeClaim, scope));
            }

            ViewerStudyRestriction.AddPolicy(options);
        });

        builder.Services.Configure<BlobStoreOptions>(builder.Configuration.GetSection(BlobStoreOptions.Section));
        // Storage locations (docs/architecture.md, "Storage locations"): the local medium at Blobs:Root, and
        // the physical media and buckets of Storage; IBlobStore spans them all.
        builder.Services.Configure<StorageOptions>(builder.Configuration.GetSection(StorageOptions.Section));
        builder.Services.AddSingleton<BlobLocations>();
        builder.Services.AddSingleton<IBlobLocations>(services => services.GetRequiredService<BlobLocations>());
        builder.Services.AddSingleton<IBlobStore, LocatedBlobStore>();
        builder.Services.AddSingleton<IStudyPlacement, StudyPlacementLookup>();
        builder.Services.AddSingleton<IRelocationCheckpoints, RelocationCheckpoints>();
        // Retrieval's per-study derivations, served only while the study stream is unchanged (docs/architecture.md).
        builder.Services.AddSingleton<EventSourced.Web.Shared.Retrieval.StudyRetrievalCache>();
        // Its reads by key on a pool of their own (prepared, no session reset): the fixed cost of a warm retrieval.
        builder.Services.AddSingleton(_ => new EventSourced.Web.Shared.Retrieval.RetrievalConnections(builder.Configuration.GetConnectionString("EventStore")!));
        builder.Services.AddSingleton<EventSourced.Web.Shared.Retrieval.RetrievalReads>();
        builder.Services.AddHostedService<BlobSweeper>();
        builder.Services.AddSingleton<OrphanBlobSweeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<OrphanBlobSweeper>());
        builder.Services.AddSingleton<EventSourced.Application.Ingestion.ReceivingInstances.InstanceReceiver>();
        builder.Services.AddSingleton<EventSourced.Application.Ingestion.InstanceIngestor>();
        builder.Services.AddSingleton<EventSourced.Application.Retrieval.InstanceRenderer>();

        // The key ring that signs presigned upload URLs and viewer tokens.
        builder.Services.Configure<SigningOptions>(builder.Configuration.GetSection(SigningOptions.Section));
        builder.Services.AddSingleton<HmacKeyRing>();

        // After Marten's and Wolverine's own hosted services (AddEventStore runs first): before Kestrel accepts.
        builder.Services.AddSingleton<WarmUpGate>();
        builder.Services.AddHostedService<StartupWarmUp>();
        builder.Services.AddHostedService(services => new JitScratchTrimmer(services.GetRequiredService<IConfiguration>()));
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]).AddCheck<WarmUpGate>("warm-up", tags: ["ready"]);
        builder.Services.AddOpenApi();
        // The dialects' modules, found among the public types only: Carter's own search loads every type of the
        // assembly (each closure and async state machine, and through their fields the S3 SDK) to find them and
        // validators, of which Carter has none to register here (docs/architecture.md, "Start-up footprint").
        builder.Services.AddCarter(configurator: carter => carter.WithModules(CarterModules()).WithEmptyValidators().WithEmptyResponseNegotiators());
        return builder;
    }

    /// <summary>The modules Carter's own search would register: the public, concrete <see cref="ICarterModule"/> types.</summary>
    public static Type[] CarterModules() =>
        [.. typeof(WebSetup).Assembly.GetExportedTypes().Where(t => t.IsPublic && !t.IsAbstract && typeof(ICarterModule).IsAssignableFrom(t))];

    /// <summary>Data protection's start-up service, which loads the key ring before any use of it.</summary>
    public static bool IsKeyRingLoader(ServiceDescriptor service) =>
        service.ServiceType == typeof(IHostedService) && service.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService";

    public static WebApplication UseWebPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseBrowserAccess();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseQueryStringGuard();

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") }).AllowAnonymous();
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference().AllowAnonymous();
        app.MapCarter();
        return app;
    }
}
