using System.Text;
using EventSourced.Application.Blobs;
using EventSourced.Dicom;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Security;
using Marten;
using Microsoft.AspNetCore.Routing;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Part of <see cref="StartupWarmUp"/>: compiles the retrieval paths a viewer hits first, so that the first
/// WADO-RS requests of a fresh server are not the ones that pay for it. The service compiles every method fully
/// optimised on its first call (no tiered compilation, see the project file), and a retrieval's first call of its
/// endpoint, of Marten's batch and of the documents' JSON (de)serialisation cost 80–270 ms on the 2-core host, stalling
/// every request that arrived meanwhile (docs/benchmarks.md, "Retrieval tail: the first requests of a fresh server").
/// <list type="bullet">
/// <item>Every read model's JSON contract: a blank document written and read back by the store's serializer (a
/// contract that refuses the blank document has been built by then).</item>
/// <item>The retrieval endpoints themselves (<see cref="Endpoints"/>), each run twice through its own request delegate
/// (binding, filters, the endpoint, its reads, the answer) for a study no tenant can hold: a read-only request answered
/// 404, in a tenant no caller can be given.</item>
/// <item>Their success paths (<see cref="SuccessEndpoints"/>), each run twice the same way (a study's first request,
/// then one answered from <see cref="Shared.Retrieval.StudyRetrievalCache"/>), on a study that is never committed: its
/// stream row and read-model rows are inserted in a transaction that is rolled back, the retrieval reads run on that
/// transaction's connection (<see cref="Shared.Retrieval.RetrievalReads.On"/>), the file is a blob store of its own in a
/// temporary folder, deleted after, and the cache is one of its own. No event, document, blob or feed entry remains.</item>
/// <item>What that 404 leaves out (writing a file or a rendering): every method of the endpoints' namespaces and of
/// shared retrieval compiled ahead (<c>RuntimeHelpers.PrepareMethod</c>).</item>
/// </list>
/// </summary>
public static class RetrievalWarmUp
{
    /// <summary>The endpoints warmed up, by name, with the Accept header a viewer sends.</summary>
    public static readonly IReadOnlyList<(string Name, string Accept)> Endpoints =
    [
        ("WadoInstance", "multipart/related; type=\"application/dicom\"; transfer-syntax=*"),
        ("WadoStudyMetadata", "application/dicom+json"),
    ];

    /// <summary>
    /// The endpoints run on the uncommitted study, with the Accept header a viewer sends and a query (the QIDO-RS
    /// searches a viewer and the harness send: by patient, date range, accession, fuzzy name, modality, in a study, in a series).
    /// </summary>
    public static readonly IReadOnlyList<(string Name, string Accept, string Query)> SuccessEndpoints =
    [
        ("WadoInstance", "multipart/related; type=\"application/dicom\"; transfer-syntax=*", ""),
        ("WadoStudyMetadata", "application/dicom+json", ""),
        ("WadoSeriesMetadata", "application/dicom+json", ""),
        ("QidoSearchStudies", "application/dicom+json", "?PatientID=WARM-UP"),
        ("QidoSearchStudies", "application/dicom+json", "?StudyDate=20000101-20000108"),
        ("QidoSearchStudies", "application/dicom+json", "?AccessionNumber=WARM-UP"),
        ("QidoSearchStudies", "application/dicom+json", "?PatientName=Warm*&limit=100"),
        ("QidoSearchSeries", "application/dicom+json", "?Modality=CT&limit=100"),
        ("QidoSearchSeriesOfStudy", "application/dicom+json", ""),
        ("QidoSearchInstancesOfSeries", "application/dicom+json", ""),
    ];

    /// <summary>The uncommitted study's UIDs (never committed: no answer to anyone ever carries them).</summary>
    private const string StudyUid = "2.25.1", SeriesUid = "2.25.2", SopUid = "2.25.3";

    /// <summary>Not a tenant: tenant ids are issued by the tenant commands, which never issue one with spaces.</summary>
    private const string Tenant = "start-up warm-up";

    private const string Uid = "2.25.0";

    /// <summary>Runs the warm-up; returns the number of endpoints run (those of <see cref="SuccessEndpoints"/> counted when they answered).</summary>
    public static async Task<int> RunAsync(IServiceProvider services, CancellationToken cancellation)
    {
        WarmDocumentContracts(services.GetRequiredService<IDocumentStore>());
        var named = WarmUpRequest.NamedEndpoints(services);
        var run = 0;
        var namespaces = new HashSet<string> { typeof(Shared.Retrieval.RetrievalReads).Namespace! };
        foreach (var (name, accept) in Endpoints)
        {
            foreach (var (endpoint, _) in named.Where(e => e.Name == name))
            {
                for (var i = 0; i < 2; i++)
                {
                    await InvokeAsync(services, endpoint, accept, _ => Uid, cancellation);
                }

                if (endpoint.Metadata.GetMetadata<System.Reflection.MethodInfo>()?.DeclaringType?.Namespace is { } own)
                {
                    namespaces.Add(own);
                }

                run++;
            }
        }

        run += await RunSuccessPathsAsync(services, named, cancellation);
        Compile(namespaces);
        return run;
    }

    /// <summary>
    /// <see cref="SuccessEndpoints"/> on a study inserted in a transaction that is rolled back (see the summary); returns
    /// the number of endpoints that answered it (200, each time).
    /// </summary>
    private static async Task<int> RunSuccessPathsAsync(IServiceProvider services, IReadOnlyList<(RouteEndpoint Endpoint, string? Name)> named, CancellationToken cancellation)
    {
        using var folder = new WarmUpRequest.Folder();
        var blobs = new Blobs.LocalDiskBlobStore(folder.Path);
        BlobReference blob;
        await using (var write = blobs.BeginWrite())
        {
            await write.Content.WriteAsync(StoredFile(), cancellation);
            blob = await write.CommitAsync(cancellation);
        }

        var store = services.GetRequiredService<IDocumentStore>();
        await using var connection = await services.GetRequiredService<Npgsql.NpgsqlDataSource>().OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await InsertStudyAsync(transaction, store, blob, cancellation);
        using var cache = new Shared.Retrieval.StudyRetrievalCache();
        var reads = services.GetRequiredService<Shared.Retrieval.RetrievalReads>().On(connection);
        var run = 0;
        var documents = TransactionStore.Over(store, transaction);
        foreach (var (name, accept, query) in SuccessEndpoints)
        {
            foreach (var (endpoint, _) in named.Where(e => e.Name == name))
            {
                // WADO-RS twice: a study's first request, then one answered from what the first kept; a search once.
                var runs = name.StartsWith("Wado", StringComparison.Ordinal) ? 2 : 1;
                var answered = 0;
                for (var i = 0; i < runs; i++)
                {
                    answered += await InvokeAsync(services, endpoint, accept, SuccessValue, cancellation,
                        scoped => new Overrides(scoped, reads, blobs, cache, documents), query) == StatusCodes.Status200OK ? 1 : 0;
                }

                run += answered == runs ? 1 : 0;
            }
        }

        await transaction.RollbackAsync(cancellation);
        WarmResponseBuffers(services.GetRequiredService<IBlobStore>(), blob.Sha256);
        return run;
    }

    private static string SuccessValue(string parameter) => parameter switch
    {
        "study" => StudyUid,
        "series" => SeriesUid,
        "instance" => SopUid,
        _ => "1",
    };

    /// <summary>The file served: bytes as a stored file's (WADO-RS serves a file of an uncorrected study unparsed).</summary>
    private static byte[] StoredFile()
    {
        var file = new byte[4096];
        "DICM"u8.CopyTo(file.AsSpan(128));
        return file;
    }

    /// <summary>The study's stream row, its record, its one instance's record (with its location), as the projections write them.</summary>
    private static async Task InsertStudyAsync(Npgsql.NpgsqlTransaction transaction, IDocumentStore store, BlobReference blob, CancellationToken cancellation)
    {
        var key = Domain.Studies.Study.StreamId(Tenant, StudyUid);
        var at = DateTimeOffset.UtcNow;
        // A stored header's shape (DICOM JSON, attributes in tag order), the attributes a retrieval and the searches read.
        static string Attribute(DicomTag tag, string vr, string value) => $$"""
            "{{tag.JsonKey()}}":{"vr":"{{vr}}","Value":[{{value}}]}
            """;
        var header = "{" + string.Join(',',
            Attribute(DicomTags.SOPClassUID, "UI", "\"1.2.840.10008.5.1.4.1.1.2\""), Attribute(DicomTags.SOPInstanceUID, "UI", $"\"{SopUid}\""),
            Attribute(DicomTags.StudyDate, "DA", "\"20000102\""), Attribute(DicomTags.AccessionNumber, "SH", "\"WARM-UP\""),
            Attribute(DicomTags.Modality, "CS", "\"CT\""), Attribute(DicomTags.PatientName, "PN", "{\"Alphabetic\":\"Warm^Up\"}"),
            Attribute(DicomTags.PatientID, "LO", "\"WARM-UP\""), Attribute(DicomTags.StudyInstanceUID, "UI", $"\"{StudyUid}\""),
            Attribute(DicomTags.SeriesInstanceUID, "UI", $"\"{SeriesUid}\""), Attribute(DicomTags.InstanceNumber, "IS", "1"),
            Attribute(DicomTags.Rows, "US", "64")) + "}";
        using var headerJson = System.Text.Json.JsonDocument.Parse(header);
        var instance = new Projections.Qido.QidoInstance
        {
            Id = Projections.Qido.QidoKeys.Instance(key, SopUid), StudyKey = key, SeriesKey = Projections.Qido.QidoKeys.Series(key, SeriesUid),
            StudyInstanceUid = StudyUid, SeriesInstanceUid = SeriesUid, SopInstanceUid = SopUid, SopClassUid = "1.2.840.10008.5.1.4.1.1.2", InstanceNumber = 1,
            TransferSyntaxUid = "1.2.840.10008.1.2.1", Blob = new Domain.Studies.BlobRef(blob.Sha256, blob.Sha1, blob.Length), StoredAt = at,
            Header = headerJson.RootElement,
        };
        var study = new Projections.Qido.QidoStudy
        {
            Id = key, StudyInstanceUid = StudyUid, PatientId = "WARM-UP", PatientName = "Warm^Up", PatientNameFuzzy = " WARM UP", StudyDate = "20000102",
            AccessionNumber = "WARM-UP", ModalitiesInStudy = ["CT"],
            NumberOfStudyRelatedSeries = 1, NumberOfStudyRelatedInstances = 1, ReceivedAt = at, UpdatedAt = at, SizeInBytes = blob.Length,
            SeriesModalities = new Dictionary<string, string> { [SeriesUid] = "CT" }, InstanceSizes = new Dictionary<string, long> { [SopUid] = blob.Length },
            Attributes = headerJson.RootElement, ReceivedAttributes = headerJson.RootElement,
        };

        var series = new Projections.Qido.QidoSeries
        {
            Id = instance.SeriesKey, StudyKey = key, StudyInstanceUid = StudyUid, SeriesInstanceUid = SeriesUid, Modality = "CT", SeriesNumber = 1,
            NumberOfSeriesRelatedInstances = 1, ReceivedAt = at, UpdatedAt = at, Attributes = headerJson.RootElement,
        };

        // The stream's row as Marten's append writes it (no event: the stamp is all a retrieval reads of it), then the
        // documents through Marten itself, in the caller's transaction (Marten neither commits nor rolls it back).
        await using (var command = new Npgsql.NpgsqlCommand(
                         $"insert into {store.Options.Events.DatabaseSchemaName}.mt_streams (tenant_id, id, version, timestamp, created) values ($1, $2, 1, $3, $3)", transaction.Connection, transaction))
        {
            command.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = Tenant });
            command.Parameters.Add(new Npgsql.NpgsqlParameter<Guid> { TypedValue = key });
            command.Parameters.Add(new Npgsql.NpgsqlParameter<DateTimeOffset> { TypedValue = at });
            await command.ExecuteNonQueryAsync(cancellation);
        }

        var options = Marten.Services.SessionOptions.ForTransaction(transaction);
        options.TenantId = Tenant;
        await using var session = store.LightweightSession(options);
        session.Store(study);
        session.Store(series);
        session.Store(instance);
        await session.SaveChangesAsync(cancellation);
    }

    /// <summary>
    /// What the endpoints' answers leave uncompiled: they were written into a response of this process, not Kestrel's
    /// (whose buffering of an answer written before its headers holds a list of its own buffer type, renting from the
    /// shared pool beyond its block size), and their files were read from the warm-up's own blob store, not the
    /// service's. Read-only: the service's store is asked for a file it does not hold.
    /// </summary>
    private static void WarmResponseBuffers(IBlobStore blobs, string sha256)
    {
        blobs.OpenRead(sha256)?.Dispose();
        using (var rented = System.Buffers.MemoryPool<byte>.Shared.Rent(16 * 1024))
        {
            _ = rented.Memory.Length + System.Buffers.MemoryPool<byte>.Shared.MaxBufferSize;
        }

        if (Type.GetType("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.Http1OutputProducer+CompletedBuffer, Microsoft.AspNetCore.Server.Kestrel.Core") is { } buffer)
        {
            var list = typeof(List<>).MakeGenericType(buffer);
            foreach (var type in new[] { list, list.GetNestedType("Enumerator")!.MakeGenericType(buffer) })
            {
                foreach (var method in type.GetMethods(System.Reflection.BindingFlags.DeclaredOnly | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic
                                                       | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static).Cast<System.Reflection.MethodBase>().Concat(type.GetConstructors(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static))
                             .Where(m => KestrelBufferMethods.Contains(m.Name) && !m.ContainsGenericParameters))
                {
                    System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(method.MethodHandle, [buffer.TypeHandle]);
                }
            }
        }
    }

    /// <summary>The methods of that list (and its enumerator) an answer written before its headers calls.</summary>
    private static readonly HashSet<string> KestrelBufferMethods = [".ctor", ".cctor", "Add", "AddWithResize", "set_Capacity", "GetEnumerator", "MoveNext", "get_Current", "Dispose", "Clear"];

    /// <summary>The request's services, with the warm-up's reads (on its transaction), blob store and cache in place of the service's.</summary>
    private sealed class Overrides(IServiceProvider services, Shared.Retrieval.RetrievalReads reads, IBlobStore blobs, Shared.Retrieval.StudyRetrievalCache cache, IDocumentStore documents) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(Shared.Retrieval.RetrievalReads) ? reads
            : serviceType == typeof(IBlobStore) ? blobs
            : serviceType == typeof(Shared.Retrieval.StudyRetrievalCache) ? cache
            : serviceType == typeof(IDocumentStore) ? documents
            : services.GetService(serviceType);
    }

    /// <summary>
    /// The service's document store, whose query sessions run in the warm-up's transaction (so they see its uncommitted
    /// study): every other member is the store's own.
    /// </summary>
    public class TransactionStore : System.Reflection.DispatchProxy
    {
        private IDocumentStore store = null!;
        private Npgsql.NpgsqlTransaction transaction = null!;

        public static IDocumentStore Over(IDocumentStore store, Npgsql.NpgsqlTransaction transaction)
        {
            var proxy = Create<IDocumentStore, TransactionStore>();
            ((TransactionStore)(object)proxy).store = store;
            ((TransactionStore)(object)proxy).transaction = transaction;
            return proxy;
        }

        protected override object? Invoke(System.Reflection.MethodInfo? method, object?[]? args)
        {
            if (method is { Name: nameof(IDocumentStore.QuerySession) } && args is [var given])
            {
                var options = Marten.Services.SessionOptions.ForTransaction(transaction);
                options.TenantId = given switch
                {
                    string tenant => tenant,
                    Marten.Services.SessionOptions asked => asked.TenantId,
                    _ => Tenant,
                };
                return store.QuerySession(options);
            }

            try
            {
                return method!.Invoke(store, args);
            }
            catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
        }
    }

    /// <summary>
    /// What a request for a study that is not there leaves uncompiled (the answer with a file or a rendering): every
    /// non-generic method of the endpoints' own namespaces and of shared retrieval, their async state machines included.
    /// </summary>
    private static void Compile(IReadOnlySet<string> namespaces)
    {
        const System.Reflection.BindingFlags declared = System.Reflection.BindingFlags.DeclaredOnly | System.Reflection.BindingFlags.Public
            | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static;
        foreach (var type in TypesIn(namespaces).Where(t => !t.ContainsGenericParameters))
        {
            foreach (var method in type.GetMethods(declared).Cast<System.Reflection.MethodBase>().Concat(type.GetConstructors(declared))
                         .Where(m => !m.IsAbstract && !m.ContainsGenericParameters && m.GetMethodBody() is not null))
            {
                System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(method.MethodHandle);
            }
        }
    }

    /// <summary>
    /// The service's types in those namespaces, nested ones (async state machines, closures) included, found from the
    /// assembly's public types (every top-level type of a warmed namespace is public; the tests hold the result to
    /// <c>Assembly.GetTypes()</c>'s). Not <c>GetTypes()</c> itself: it loads every type of the assembly, and with the
    /// bucket store's async state machines, whose fields are the S3 SDK's types, it loaded the S3 SDK into a service
    /// that stores on local disk (docs/benchmarks.md, "Memory: what start-up loaded for features it does not use").
    /// </summary>
    public static IEnumerable<Type> TypesIn(IReadOnlySet<string> namespaces)
    {
        var pending = new Stack<Type>(typeof(RetrievalWarmUp).Assembly.GetExportedTypes()
            .Where(t => !t.IsNested && t.Namespace is { } n && namespaces.Contains(n)));
        while (pending.TryPop(out var type))
        {
            yield return type;
            foreach (var nested in type.GetNestedTypes(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic))
            {
                pending.Push(nested);
            }
        }
    }

    private static void WarmDocumentContracts(IDocumentStore store)
    {
        var serializer = store.Options.Serializer();
        // This product's documents (the read models); Wolverine's and Marten's own are not read by a request.
        foreach (var type in store.Options.AllKnownDocumentTypes().Select(d => d.DocumentType).Distinct()
                     .Where(t => t.Namespace?.StartsWith("EventSourced.", StringComparison.Ordinal) == true))
        {
            try
            {
                var json = type.GetConstructor(Type.EmptyTypes) is not null ? serializer.ToJson(Activator.CreateInstance(type)) : "{}";
                using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json));
                serializer.FromJson(type, stream);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NotSupportedException or MemberAccessException)
            {
                // A blank document this contract cannot write or read back (a required member, a default JsonElement):
                // the contract is built before the value is refused, which is what the warm-up is for.
            }
        }
    }

    /// <returns>The answer's status code.</returns>
    private static Task<int> InvokeAsync(IServiceProvider services, RouteEndpoint endpoint, string accept, Func<string, string> valueOf, CancellationToken cancellation,
        Func<IServiceProvider, IServiceProvider>? overrides = null, string query = "") =>
        WarmUpRequest.InvokeAsync(services, endpoint, Principal.Create("warm-up", Tenant, "warm-up", [Scopes.StudiesRead]), request =>
        {
            request.Method = HttpMethods.Get;
            foreach (var parameter in endpoint.RoutePattern.Parameters)
            {
                request.RouteValues[parameter.Name] = valueOf(parameter.Name);
            }

            request.Path = "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(s =>
                string.Concat(s.Parts.Select(p => p switch
                {
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter => valueOf(parameter.Name),
                    _ => "",
                }))));
            request.QueryString = new QueryString(query.Length == 0 ? null : query);
            request.Headers.Accept = accept;
        }, cancellation, overrides);
}
