using System.Security.Claims;

namespace EventSourced.Web.Infrastructure;

/// <summary>What the start-up warm-ups (<see cref="RetrievalWarmUp"/>, <see cref="StowWarmUp"/>) share.</summary>
public static class WarmUpRequest
{
    /// <summary>The host's route endpoints that can be run (they have a request delegate), each with its endpoint name (null when unnamed).</summary>
    public static List<(RouteEndpoint Endpoint, string? Name)> NamedEndpoints(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RequestDelegate is not null)
            .Select(e => (Endpoint: e, Name: e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName))
            .ToList();

    /// <summary>
    /// Runs <paramref name="endpoint"/>'s own request delegate (binding, filters, the endpoint, its answer) on a request of
    /// this process, not of a connection: a scope of its own, <paramref name="overrides"/> over its services when given,
    /// the answer's body discarded. Returns the answer's status code.
    /// </summary>
    public static async Task<int> InvokeAsync(IServiceProvider services, RouteEndpoint endpoint, ClaimsPrincipal user, Action<HttpRequest> describe,
        CancellationToken cancellation, Func<IServiceProvider, IServiceProvider>? overrides = null)
    {
        await using var scope = services.CreateAsyncScope();
        var context = new DefaultHttpContext
        {
            RequestServices = overrides is null ? scope.ServiceProvider : overrides(scope.ServiceProvider),
            User = user,
            RequestAborted = cancellation,
        };
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost");
        describe(context.Request);
        context.Response.Body = Stream.Null;
        context.SetEndpoint(endpoint);
        await endpoint.RequestDelegate!(context);
        return context.Response.StatusCode;
    }

    /// <summary>A temporary folder of the warm-up's own (<c>eventsourced-warm-up-*</c>), removed when disposed.</summary>
    public sealed class Folder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"eventsourced-warm-up-{Guid.NewGuid():N}");

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // A temporary folder left behind holds nothing but the warm-up's own files.
            }
        }
    }
}
