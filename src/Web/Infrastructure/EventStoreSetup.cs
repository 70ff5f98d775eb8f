using EventSourced.Application;
using EventSourced.Application.Ingestion;
using EventSourced.Application.Orders;
using EventSourced.Projections;
using EventSourced.Projections.Access;
using JasperFx;
using JasperFx.CodeGeneration;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using Marten;
using JasperFx.MultiTenancy;
using Marten.Exceptions;
using Marten.Storage;
using Npgsql;
using Weasel.Core;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Marten;

namespace EventSourced.Web.Infrastructure;

public static class EventStoreSetup
{
    /// <summary>Marten (event store, projections) and Wolverine (handlers, durable scheduled messages) on one PostgreSQL database.</summary>
    public static WebApplicationBuilder AddEventStore(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("EventStore");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "ConnectionStrings:EventStore is not set. Use eng/run.sh (it starts a local PostgreSQL) or set ConnectionStrings__EventStore.");
        }

        var storeOptions = builder.Configuration.GetSection(EventStoreOptions.Section).Get<EventStoreOptions>() ?? new EventStoreOptions();
        var solo = storeOptions.NodeMode.ToLowerInvariant() switch
        {
            "solo" => true,
            "balanced" => false,
            _ => throw new InvalidOperationException(
                $"EventStore:NodeMode is '{storeOptions.NodeMode}': 'Solo' (one node, the default) or 'Balanced' (several nodes on one database)."),
        };

        builder.Services.Configure<EventStoreOptions>(builder.Configuration.GetSection(EventStoreOptions.Section));
        builder.Services.Configure<OrderOptions>(builder.Configuration.GetSection(OrderOptions.Section));
        builder.Services.Configure<IngestionOptions>(builder.Configuration.GetSection(IngestionOptions.Section));
        builder.Services.Configure<EventSourced.Application.Studies.StudyLifecycleOptions>(builder.Configuration.GetSection(EventSourced.Application.Studies.StudyLifecycleOptions.Section));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(_ => DataSource(connectionString, storeOptions));
        builder.Services.AddSingleton<EventSourced.Projections.StudyFeed.StudyFeedSignal>();
        builder.Services.AddSingleton<EventSourced.Application.Ingestion.StoringInstances.StudyWriteCache>();
        builder.Services.AddSingleton<EventSourced.Application.Patients.PatientWriteCache>();
        builder.Services.AddSingleton<EventSourced.Application.Orders.RecordingImages.OrderWriteCache>();

        // Before Marten's schema migration (hosted services start in the order they were added).
        builder.Services.AddHostedService<SchemaUpgrades.OnStartup>();

        builder.Services.AddMarten(services =>
            {
                var options = new StoreOptions();
                var dataSource = services.GetRequiredService<NpgsqlDataSource>();
                options.ConfigureEventStore(
                    dataSource, storeOptions.Schema, storeOptions,
                    services.GetRequiredService<EventSourced.Projections.StudyFeed.StudyFeedSignal>());

                // The study, patient and order aggregates a store leaves, kept once its commit succeeds; the erasure epoch that invalidates them.
                options.Listeners.Add(services.GetRequiredService<EventSourced.Application.Ingestion.StoringInstances.StudyWriteCache>());
                options.Listeners.Add(services.GetRequiredService<EventSourced.Application.Patients.PatientWriteCache>());
                options.Listeners.Add(services.GetRequiredService<EventSourced.Application.Orders.RecordingImages.OrderWriteCache>());
                options.Storage.ExtendedSchemaObjects.Add(new Weasel.Postgresql.Sequence(
                    $"{storeOptions.Schema}.{EventSourced.Application.Common.ErasureEpoch.Sequence}"));

                // The daemon woken by the events' NOTIFY, at most once per interval (PacedDaemonWakeup).
                options.Projections.Wakeup = new PacedDaemonWakeup(
                    new Marten.Events.Daemon.HighWater.PostgresqlListenWakeup(
                        dataSource, services.GetRequiredService<ILoggerFactory>().CreateLogger<PacedDaemonWakeup>()),
                    storeOptions.DaemonMinimumInterval, services.GetRequiredService<TimeProvider>());
                return options;
            })
            .UseLightweightSessions()
            .ApplyAllDatabaseChangesOnStartup()
            .IntegrateWithWolverine()
            .AddAsyncDaemon(solo ? DaemonMode.Solo : DaemonMode.HotCold);

        // After Marten's schema migration: the event table exists by then.
        builder.Services.AddHostedService<EventLogCompression>();
        builder.Services.AddHostedService<EventLogIndexes>();

        builder.Host.UseWolverine(options =>
        {
            // Pin the application assembly: a test run with several hosts must never lose handlers.
            options.ApplicationAssembly = typeof(Program).Assembly;
            options.Discovery.IncludeAssembly(typeof(ApplicationAssembly).Assembly);

            // Handler code generated before the build (src/Web/Generated, written by eng/codegen.sh, committed) and
            // loaded, not compiled: no Roslyn in the service (docs/architecture.md, "Code generation: Static").
            // Dynamic needs a runtime compiler registered by whoever asks for it (the test hosts do).
            options.CodeGeneration.TypeLoadMode = builder.Configuration.GetValue("Hosting:CodeGeneration", TypeLoadMode.Static);
            options.CodeGeneration.GeneratedNamespace = typeof(Program).Assembly.GetName().Name + ".Generated";
            options.CodeGeneration.GeneratedCodeOutputPath = Path.Combine(builder.Environment.ContentRootPath, "Generated");

            options.Policies.AutoApplyTransactions();
            // Without durable local queues a scheduled local message lives in memory and dies with the process.
            options.Policies.UseDurableLocalQueues();
            options.Durability.Mode = solo ? DurabilityMode.Solo : DurabilityMode.Balanced;
            options.Durability.ScheduledJobPollingTime = storeOptions.ScheduledJobPollingTime;

            // Two commands deciding on the same stream at once: the loser re-reads and decides again. Six
            // tries over about 1.3 s: 32 clients storing first studies of a few patients at once still
            // collided after three (eng/bench/bad-load.sh); what outlives them is a 503 with Retry-After.
            // The same test as that 503's: a deadlock's or a serialization failure's victim was rolled back
            // whole, so it is retried too (two writers that lock rows in opposite orders, rare by design).
            options.OnException(UnhandledExceptionHandler.WriteContention)
                .RetryWithCooldown(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100),
                    TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(350), TimeSpan.FromMilliseconds(600));
        },
        // No package here carries a Wolverine extension module: automatic discovery would only load every assembly of
        // the deployment (the S3 SDK, the console and geometry libraries, …) to look for one, and keep them mapped
        // (docs/architecture.md, "Start-up footprint").
        ExtensionDiscovery.ManualOnly);

        return builder;
    }

    /// <summary>
    /// The one data source of the service. Statements are prepared automatically (EventStoreOptions.MaxAutoPrepare)
    /// unless the connection string says otherwise: Marten sends its SQL unprepared, and parsing and planning
    /// every per-instance upsert was a large part of PostgreSQL's CPU per stored instance (docs/benchmarks.md,
    /// "STOW: one event row per instance, prepared statements"). Prepared statements survive a pooled
    /// connection's return (Npgsql then resets the session without DISCARD ALL). No GSS probe unless asked for
    /// (<see cref="ConnectionDefaults.WithoutGssProbe"/>).
    /// </summary>
    private static NpgsqlDataSource DataSource(string connectionString, EventStoreOptions storeOptions)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString).WithoutGssProbe(connectionString);
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0 && storeOptions.MaxAutoPrepare > 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = storeOptions.MaxAutoPrepare;
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = storeOptions.AutoPrepareMinUsages;
        }

        return builder.Build();
    }

    /// <summary>
    /// The whole Marten configuration (documents, events, every projection) in <paramref name="schema"/>:
    /// the live store and the scratch store of <see cref="ProjectionVerifier"/> are configured by this one method.
    /// </summary>
    public static StoreOptions ConfigureEventStore(this StoreOptions options, NpgsqlDataSource dataSource, string schema,
        EventStoreOptions storeOptions, EventSourced.Projections.StudyFeed.StudyFeedSignal signal)
    {
        options.Connection(dataSource);
        options.DatabaseSchemaName = schema;
        options.Events.DatabaseSchemaName = schema;

        // Day-one, store-wide decisions (docs/architecture.md): Guid stream ids, conjoined tenancy.
        options.Events.StreamIdentity = StreamIdentity.AsGuid;
        options.Events.TenancyStyle = TenancyStyle.Conjoined;

        // Our indexes on the event table (EventLogIndexes builds them concurrently): Marten's schema migration would
        // otherwise drop an index on mt_events it does not declare.
        foreach (var (name, _) in EventLogIndexes.All)
        {
            options.Events.IgnoreIndex(name);
        }

        // The upstream DistributedLock.Postgres that stands in for Patched.DistributedLock.Postgres
        // cannot take the daemon's advisory locks on a DbDataSource ("Multiplexing is currently
        // incompatible with DbDataSource") unless the locks are taken inside a transaction.
        options.Events.UseAdvisoryLockTransaction = true;

        // Headers (events, QIDO instance records) are DICOM JSON as deep as nested sequences make them: the
        // serializer takes the depth the DICOM JSON writer allows, not System.Text.Json's default of 64, which
        // refused to append an instance with about 20 nested sequence levels (a 500 on STOW).
        options.UseSystemTextJsonForSerialization(EnumStorage.AsString, configure: json => json.MaxDepth = EventSourced.Dicom.DicomJsonWriter.MaxJsonDepth);
        options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;

        options.AddProjections(signal);

        // Leaner rows (docs/architecture.md, "What the database stores per instance"): no document type
        // is part of a hierarchy, so the full .NET type name Marten would write into every row of every
        // document table (about 50 bytes a row, five rows an instance) says nothing.
        options.Policies.ForAllDocuments(mapping => mapping.Metadata.DotNetType.Enabled = false);

        // How soon the daemon looks again when no NOTIFY woke it (a lost notification, the end of a
        // gap): the study feed's freshness (docs/architecture.md).
        options.Projections.FastPollingTime = storeOptions.DaemonFastPollingTime;
        options.Projections.SlowPollingTime = storeOptions.DaemonSlowPollingTime;
        // A gap no live transaction can fill (a rolled-back write's sequence numbers) is passed after this long, not 3 s:
        // the feed's first entries after a start wait for the STOW warm-up's gap (docs/architecture.md, "STOW warm-up").
        options.Projections.StaleSequenceThreshold = storeOptions.DaemonStaleSequenceThreshold;

        // The request's correlation id on every event, for the audit history.
        options.Events.MetadataConfig.CorrelationIdEnabled = true;
        options.Schema.For<EventSourced.Web.Security.HmacSigningKey>().SingleTenanted();
        options.Schema.For<EventSourced.Web.Security.SigningKeyDocument>().SingleTenanted();

        // Failed sign-ins, counted across nodes (not events: operational state that leaves with its window).
        options.Storage.ExtendedSchemaObjects.Add(EventSourced.Web.Security.LoginThrottle.Table(schema));
        return options;
    }
}
