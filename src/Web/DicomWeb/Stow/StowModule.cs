using System.Security.Claims;
using System.Text.Json;
using Carter;
using EventSourced.Application.Ingestion;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using EventSourced.Web.Shared.DicomWeb;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.DicomWeb.Stow;

/// <summary>
/// STOW-RS (PS3.18 §10.5): <c>POST /dicomweb/studies[/{study}]</c> with
/// <c>multipart/related; type="application/dicom"</c>. Parts are read one at a time from the request
/// stream and each is written to disk as it arrives: the request is never held in memory.
/// </summary>
public sealed class StowModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/dicomweb/studies").WithTags("DICOMweb: STOW-RS").RequireAuthorization(Scopes.StudiesWrite);
        group.MapPost("", (HttpContext context, CancellationToken cancellation) => Store(context, null, cancellation))
            .WithName("StowStudies")
            .Accepts<object>(DicomWebMediaTypes.MultipartRelated)
            .Produces(StatusCodes.Status200OK, contentType: DicomWebMediaTypes.DicomJson);
        group.MapPost("/{study}", (HttpContext context, string study, CancellationToken cancellation) => Store(context, study, cancellation))
            .WithName("StowStudy")
            .Accepts<object>(DicomWebMediaTypes.MultipartRelated)
            .Produces(StatusCodes.Status200OK, contentType: DicomWebMediaTypes.DicomJson);
    }

    private static async Task<IResult> Store(HttpContext context, string? study, CancellationToken cancellation)
    {
        var request = context.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals(DicomWebMediaTypes.MultipartRelated, StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type",
                "STOW-RS takes multipart/related; type=\"application/dicom\".");
        }

        var type = HeaderUtilities.RemoveQuotes(Parameter(contentType, "type")).ToString();
        if (type.Length > 0 && !type.Equals(DicomWebMediaTypes.Dicom, StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type",
                $"Only type=\"application/dicom\" parts are accepted, not \"{type}\".");
        }

        var boundary = HeaderUtilities.RemoveQuotes(Parameter(contentType, "boundary")).ToString();
        if (!UploadMultipart.IsAcceptableBoundary(boundary))
        {
            return Problems.BadRequest("The multipart/related Content-Type has no valid boundary parameter.");
        }

        if (!DicomWebMediaTypes.AcceptsDicomJson(request))
        {
            return Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable", "The STOW-RS response is application/dicom+json.");
        }

        if (study is not null && !Dicom.DicomUid.IsValid(study))
        {
            return Problems.BadRequest($"'{study}' is not a valid StudyInstanceUID.");
        }

        var services = context.RequestServices;
        var limits = services.GetRequiredService<IOptions<IngestionOptions>>().Value;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limits.MaxRequestBytes;
        }

        var transaction = new StowTransaction(
            services.GetRequiredService<InstanceIngestor>(), services.GetRequiredService<ILogger<StowModule>>(), request, context.User, cancellation);
        return await transaction.RunAsync(UploadMultipart.Reader(boundary, request.Body), study);
    }

    private static StringSegment Parameter(MediaTypeHeaderValue media, string name) =>
        media.Parameters.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))?.Value ?? StringSegment.Empty;
}
