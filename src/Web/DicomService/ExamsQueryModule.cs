using System.Security.Claims;
using Carter;
using EventSourced.Application.Retrieval;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Studies;
using EventSourced.Web.Shared.Qido;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Shared.Rendering;
using Marten;
using Microsoft.Extensions.Primitives;

namespace EventSourced.Web.DicomService;

/// <summary>
/// Document c, "Exams retrieval" (QIDO underneath, always for one patient) and "Exam retrieval" (one
/// instance as its DICOM file or as a JPEG thumbnail).
/// </summary>
public sealed class ExamsQueryModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/exams/studies").WithTags("DICOM service: exams").RequireAuthorization(Scopes.StudiesRead);
        group.MapGet("", (HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
            Search(http, user, store, QidoLevel.Study, null, null, ct)).WithName("ExamsStudies");
        group.MapGet("/{study}/series", (string study, HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
            Search(http, user, store, QidoLevel.Series, study, null, ct)).WithName("ExamsSeries");
        group.MapGet("/{study}/series/{series}/instances", (string study, string series, HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
            Search(http, user, store, QidoLevel.Instance, study, series, ct)).WithName("ExamsInstances");
        group.MapGet("/{study}/series/{series}/instance/{instance}", Retrieve).WithName("ExamsInstance");
    }

    /// <summary>
    /// The patient parameter is mandatory (the document spells it PatientId, patientId and patientID:
    /// any casing is read); a missing one is a 400. It becomes QIDO's PatientID; limit and offset pass
    /// through. No match is 200 with an empty array, as the document's "array of objects" implies.
    /// </summary>
    private static Task<IResult> Search(HttpContext http, ClaimsPrincipal user, IDocumentStore store, QidoLevel level, string? study, string? series, CancellationToken cancellation)
    {
        var patient = http.Request.Query["PatientId"].ToString();
        if (patient.Length == 0)
        {
            return Task.FromResult(Problems.BadRequest("The PatientId query parameter is mandatory."));
        }

        var parameters = new Dictionary<string, StringValues> { ["PatientID"] = patient };
        foreach (var name in new[] { "limit", "offset" })
        {
            if (http.Request.Query.TryGetValue(name, out var value))
            {
                parameters[name] = value;
            }
        }

        return QidoSearch.SearchAsync(http, user, store, level, study, series, cancellation,
            new QueryCollection(parameters), emptyAsArray: true, contentType: "application/json");
    }

    private static async Task<IResult> Retrieve(
        string study, string series, string instance, HttpContext http, IDocumentStore store, InstanceRenderer renderer,
        EventSourced.Application.Blobs.IBlobStore blobs, CancellationToken cancellation)
    {
        var fileType = http.Request.Query["fileType"].ToString();
        if (fileType is not ("application/dicom" or "image/jpeg"))
        {
            return Problems.BadRequest("The fileType query parameter is mandatory: application/dicom or image/jpeg.");
        }

        await using var session = store.QuerySessionForCaller(http.User);
        var location = await InstanceLocations.OfAsync(session, study, series, instance, cancellation);
        if (location is null)
        {
            return Problems.NotFound($"No instance {instance} in series {series} of study {study}.");
        }

        if (fileType == "image/jpeg")
        {
            return await RenderedJpeg.RenderAsync(renderer, location, RenderedJpeg.Thumbnail, cancellation);
        }

        // Patient corrections: served with the study's current patient (Retrieval/CoercedRetrieval).
        var coercion = await Shared.Retrieval.CoercedRetrieval.ForStudiesAsync(session, blobs, [study], cancellation);
        var (blob, _) = await coercion.OpenAsync(location, cancellation);
        return TypedResults.Stream(blob, "application/dicom", $"{instance}.dcm");
    }
}
