using System.Text;
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

    /// <summary>Not a tenant: tenant ids are issued by the tenant commands, which never issue one with spaces.</summary>
    private const string Tenant = "start-up warm-up";

    private const string Uid = "2.25.0";

    /// <summary>Runs the warm-up; returns the number of endpoints run.</summary>
    public static async Task<int> RunAsync(IServiceProvider services, CancellationToken cancellation)
    {
        WarmDocumentContracts(services.GetRequiredService<IDocumentStore>());
        var named = services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Endpoint: e, Name: e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName))
            .ToList();
        var run = 0;
        var namespaces = new HashSet<string> { typeof(Shared.Retrieval.RetrievalReads).Namespace! };
        foreach (var (name, accept) in Endpoints)
        {
            foreach (var (endpoint, _) in named.Where(e => e.Name == name && e.Endpoint.RequestDelegate is not null))
            {
                for (var i = 0; i < 2; i++)
                {
                    await InvokeAsync(services, endpoint, accept, cancellation);
                }

                if (endpoint.Metadata.GetMetadata<System.Reflection.MethodInfo>()?.DeclaringType?.Namespace is { } own)
                {
                    namespaces.Add(own);
                }

                run++;
            }
        }

        Compile(namespaces);
        return run;
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

    private static async Task InvokeAsync(IServiceProvider services, RouteEndpoint endpoint, string accept, CancellationToken cancellation)
    {
        await using var scope = services.CreateAsyncScope();
        var context = new DefaultHttpContext
        {
            RequestServices = scope.ServiceProvider,
            User = Principal.Create("warm-up", Tenant, "warm-up", [Scopes.StudiesRead]),
            RequestAborted = cancellation,
        };
        var request = context.Request;
        request.Method = HttpMethods.Get;
        request.Scheme = "http";
        request.Host = new HostString("localhost");
        foreach (var parameter in endpoint.RoutePattern.Parameters)
        {
            request.RouteValues[parameter.Name] = Uid;
        }

        request.Path = "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(s =>
            string.Concat(s.Parts.Select(p => p is Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal ? literal.Content : Uid))));
        request.Headers.Accept = accept;
        context.Response.Body = Stream.Null;
        context.SetEndpoint(endpoint);
        await endpoint.RequestDelegate!(context);
    }
}
