using System.Security.Claims;
using Carter;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Security;
using EventSourced.Web.Shared.Qido;
using Marten;

namespace EventSourced.Web.DicomWeb.Qido;

/// <summary>
/// QIDO-RS (PS3.18 §10.6) at its six resources under /dicomweb, on the inline QIDO read models. The
/// query is translated to one SQL predicate on the level's table, paged in one statement with the tenant
/// filter and the level's order (Shared/Qido/QidoSearch); conditions on a higher level become a
/// sub-select on that level's table. Conformance: docs/dicomweb-conformance.md, "QIDO-RS".
/// </summary>
public sealed class QidoModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        // studies.read, or a viewer token restricted to the path's or forced study (ViewerStudyRestriction).
        var group = app.MapGroup("/dicomweb").WithTags("DICOMweb: QIDO-RS").RestrictedToViewerStudy();

        group.MapGet("/studies", (HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
                SearchAsync(http, user, store, QidoLevel.Study, null, null, ct))
            .WithName("QidoSearchStudies");
        group.MapGet("/series", (HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
                SearchAsync(http, user, store, QidoLevel.Series, null, null, ct))
            .WithName("QidoSearchSeries");
        group.MapGet("/studies/{study}/series", (string study, HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
                SearchAsync(http, user, store, QidoLevel.Series, study, null, ct))
            .WithName("QidoSearchSeriesOfStudy");
        group.MapGet("/instances", (HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
                SearchAsync(http, user, store, QidoLevel.Instance, null, null, ct))
            .WithName("QidoSearchInstances");
        group.MapGet("/studies/{study}/instances", (string study, HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
                SearchAsync(http, user, store, QidoLevel.Instance, study, null, ct))
            .WithName("QidoSearchInstancesOfStudy");
        group.MapGet("/studies/{study}/series/{series}/instances", (string study, string series, HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
                SearchAsync(http, user, store, QidoLevel.Instance, study, series, ct))
            .WithName("QidoSearchInstancesOfSeries");
    }

    private static Task<IResult> SearchAsync(HttpContext http, ClaimsPrincipal user, IDocumentStore store, QidoLevel level, string? study, string? series, CancellationToken cancellation) =>
        QidoSearch.SearchAsync(http, user, store, level, study, series, cancellation, offerXml: true);
}
