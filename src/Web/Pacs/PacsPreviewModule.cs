using Carter;
using EventSourced.Application.Retrieval;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Studies;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Shared.Rendering;
using Marten;

namespace EventSourced.Web.Pacs;

/// <summary>
/// Document e, "Get instance preview API": <c>GET /o3-dpacs-wado/preview?objectUID=|seriesUID=</c>, a JPEG
/// thumbnail of the instance, or of the series' instance with the lowest Instance Number.
/// </summary>
public sealed class PacsPreviewModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapGet("/o3-dpacs-wado/preview", Preview)
            .WithTags("PACS: preview")
            .WithName("PacsPreview")
            .RequireAuthorization(Scopes.StudiesRead)
            .Produces(StatusCodes.Status200OK, contentType: "image/jpeg")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> Preview(HttpContext context, IDocumentStore store, InstanceRenderer renderer, CancellationToken cancellation)
    {
        // The document names the parameters objectUID and seriesUID; their case is forgiven.
        var objectUid = Query(context.Request, "objectUID");
        var seriesUid = Query(context.Request, "seriesUID"); // query keys match without regard to case
        if (objectUid is null && seriesUid is null)
        {
            return Problems.BadRequest("Give objectUID or seriesUID.");
        }

        await using var session = store.QuerySessionForCaller(context.User);
        InstanceLocation? instance;
        if (objectUid is not null)
        {
            // "The JPEG thumbnail of the objectUID if valued. Otherwise, if seriesUID is valued …"
            instance = await InstanceLocations.BySopInstanceUidAsync(session, objectUid, cancellation);
        }
        else
        {
            instance = await InstanceLocations.FirstOfSeriesAsync(session, seriesUid!, cancellation);
        }

        return instance is null
            ? Problems.NotFound(objectUid is not null ? $"No instance {objectUid}." : $"No series {seriesUid}.")
            : await RenderedJpeg.RenderAsync(renderer, instance, RenderedJpeg.Thumbnail, cancellation);
    }

    private static string? Query(HttpRequest request, string name) =>
        request.Query[name].ToString() is { Length: > 0 } value ? value : null;
}
