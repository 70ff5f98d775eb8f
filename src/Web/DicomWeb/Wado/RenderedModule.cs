using System.Globalization;
using Carter;
using EventSourced.Application.Retrieval;
using EventSourced.Dicom;
using EventSourced.Dicom.Imaging;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Studies;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using EventSourced.Web.Shared.Rendering;
using Marten;

namespace EventSourced.Web.DicomWeb.Wado;

/// <summary>
/// WADO-RS rendered resources (PS3.18 §10.4.1.1.3, §8.3.5): an instance or one of its frames as
/// image/jpeg, with the <c>window</c>, <c>viewport</c> and <c>quality</c> parameters; and the instance
/// thumbnail (§10.4.1.1.4).
/// </summary>
public sealed class RenderedModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/dicomweb/studies/{study}/series/{series}/instances/{instance}")
            .WithTags("DICOMweb: WADO-RS rendered").RestrictedToViewerStudy();
        group.MapGet("/rendered", (string study, string series, string instance, HttpContext context, CancellationToken cancellation) =>
            Render(context, study, series, instance, 1, thumbnail: false, cancellation)).WithName("WadoInstanceRendered");
        group.MapGet("/frames/{frame:int}/rendered", (string study, string series, string instance, int frame, HttpContext context, CancellationToken cancellation) =>
            Render(context, study, series, instance, frame, thumbnail: false, cancellation)).WithName("WadoFrameRendered");
        group.MapGet("/thumbnail", (string study, string series, string instance, HttpContext context, CancellationToken cancellation) =>
            Render(context, study, series, instance, 1, thumbnail: true, cancellation)).WithName("WadoInstanceThumbnail");
    }

    private static async Task<IResult> Render(HttpContext context, string study, string series, string instance, int frame, bool thumbnail, CancellationToken cancellation)
    {
        if (!DicomUid.IsValid(study) || !DicomUid.IsValid(series) || !DicomUid.IsValid(instance))
        {
            return Problems.BadRequest("The study, series and instance must be valid UIDs.");
        }

        if (frame < 1)
        {
            return Problems.BadRequest("Frames are numbered from 1.");
        }

        if (ChooseFormat(context.Request) is not { } format)
        {
            return Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable", "Rendered images are served as image/jpeg or image/png.");
        }

        if (ParseRequest(context.Request.Query, frame - 1, thumbnail, format) is not { } request)
        {
            return Problems.BadRequest("window is center,width[,linear|linear-exact|sigmoid]; viewport is width,height (positive); quality is 1 to 100.");
        }

        await using var session = context.RequestServices.GetRequiredService<IDocumentStore>().QuerySessionForCaller(context.User);
        var location = await InstanceLocations.OfAsync(session, study, series, instance, cancellation);
        if (location is null)
        {
            return Problems.NotFound($"No instance {instance} in series {series} of study {study}.");
        }

        return await RenderedJpeg.RenderAsync(context.RequestServices.GetRequiredService<InstanceRenderer>(), location, request, cancellation);
    }

    /// <summary>image/jpeg or image/png by the Accept header's quality order; JPEG for no Accept, image/* and */*.</summary>
    private static RenderedFormat? ChooseFormat(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        if (accept.Count == 0)
        {
            return RenderedFormat.Jpeg;
        }

        foreach (var a in accept.Where(a => a.Quality is not 0).OrderByDescending(a => a.Quality ?? 1))
        {
            if (a.MediaType.Equals("image/png", StringComparison.OrdinalIgnoreCase))
            {
                return RenderedFormat.Png;
            }

            if (a.MatchesAllTypes || a.MediaType.Equals("image/jpeg", StringComparison.OrdinalIgnoreCase) || a.MediaType.Equals("image/*", StringComparison.OrdinalIgnoreCase))
            {
                return RenderedFormat.Jpeg;
            }
        }

        return null;
    }

    private static RenderRequest? ParseRequest(IQueryCollection query, int frame, bool thumbnail, RenderedFormat format)
    {
        VoiWindow? window = null;
        if (query["window"].ToString() is { Length: > 0 } w)
        {
            var parts = w.Split(',');
            if (parts.Length is < 2 or > 3
                || !double.TryParse(parts[0], CultureInfo.InvariantCulture, out var center)
                || !double.TryParse(parts[1], CultureInfo.InvariantCulture, out var width) || width <= 0)
            {
                return null;
            }

            VoiLutFunction? function = parts.Length < 3 ? VoiLutFunction.Linear : parts[2].ToLowerInvariant() switch
            {
                "linear" => VoiLutFunction.Linear,
                "linear-exact" or "linear_exact" => VoiLutFunction.LinearExact,
                "sigmoid" => VoiLutFunction.Sigmoid,
                _ => null,
            };
            if (function is null)
            {
                return null;
            }

            window = new VoiWindow(center, width, function.Value);
        }

        int? maxWidth = thumbnail ? RenderedJpeg.ThumbnailSize : null, maxHeight = thumbnail ? RenderedJpeg.ThumbnailSize : null;
        if (query["viewport"].ToString() is { Length: > 0 } v)
        {
            var parts = v.Split(',');
            if (parts.Length < 2 || !int.TryParse(parts[0], out var vw) || !int.TryParse(parts[1], out var vh) || vw < 1 || vh < 1 || vw > 8192 || vh > 8192)
            {
                return null;
            }

            (maxWidth, maxHeight) = (vw, vh);
        }

        var quality = 90;
        if (query["quality"].ToString() is { Length: > 0 } q && (!int.TryParse(q, out quality) || quality is < 1 or > 100))
        {
            return null;
        }

        return new RenderRequest(frame, window, maxWidth, maxHeight, quality, format);
    }
}
