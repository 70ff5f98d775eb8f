using System.Security.Claims;
using System.Text.Json;
using Carter;
using EventSourced.Application.Ingestion;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
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
    /// <summary>Instances recorded per transaction: bounds what a request holds in memory (headers only).</summary>
    private const int StoreBatchSize = 64;

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

        var ingestor = services.GetRequiredService<InstanceIngestor>();
        var logger = services.GetRequiredService<ILogger<StowModule>>();
        var user = context.User;
        var reader = UploadMultipart.Reader(boundary, request.Body);
        var response = new StowResponse();
        var studies = new HashSet<string>();
        var pending = new List<PendingInstance>();
        var parts = 0;

        // Received instances are recorded in batches, one transaction per study, once their blobs are
        // durable (the commits overlap with reading the next parts), and always before the request ends,
        // whichever way it ends: no blob is left without its event.
        async Task FlushAsync()
        {
            if (pending.Count == 0)
            {
                return;
            }

            // The parts' commits ran while later parts were read; only durable blobs are recorded.
            var durable = new List<StoredInstance>(pending.Count);
            Exception? unexpected = null;
            foreach (var part in pending)
            {
                try
                {
                    durable.Add(await part.Durable);
                }
                catch (IOException e)
                {
                    logger.LogError(e, "STOW: a received instance could not be committed to the blob store");
                    response.AddFailed(new ReceiveFailure(ReceiveFailure.ProcessingFailure, "The instance could not be written to storage.", null, null));
                }
                catch (Exception e)
                {
                    unexpected ??= e;
                }
            }

            pending.Clear();
            if (durable.Count > 0)
            {
                await StoreDurableAsync(durable);
            }

            if (unexpected is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(unexpected);
            }
        }

        async Task StoreDurableAsync(List<StoredInstance> durable)
        {
            foreach (var outcome in await ingestor.StoreAsync(durable, user.TenantId(), user.Actor("stow-rs"), cancellation))
            {
                if (outcome.Failure is { } refused)
                {
                    logger.LogInformation("STOW instance {Sop} refused: {Detail}", refused.SopInstanceUid, refused.Detail);
                    response.AddFailed(refused);
                    continue;
                }

                var instance = outcome.Instance!;
                studies.Add(instance.StudyInstanceUid);
                response.AddStored(instance.SopClassUid, instance.SopInstanceUid, DicomWebMediaTypes.InstanceUrl(request, instance.StudyInstanceUid, instance.SeriesInstanceUid, instance.SopInstanceUid));
            }
        }

        try
        {
            while (await UploadMultipart.NextSectionAsync(reader, cancellation) is { } section)
            {
                parts++;
                if (section.ContentType is { } partType
                    && !(MediaTypeHeaderValue.TryParse(partType, out var parsed) && parsed.MediaType.Equals(DicomWebMediaTypes.Dicom, StringComparison.OrdinalIgnoreCase)))
                {
                    await UploadMultipart.DrainAsync(section.Body, cancellation);
                    response.AddFailed(new ReceiveFailure(ReceiveFailure.CannotUnderstand, $"Part {parts} is {partType}, not application/dicom.", null, null));
                    continue;
                }

                var (received, failure) = await ingestor.ReceivePendingAsync(section.Body, study, IngestChannel.StowRs, callingAeTitle: null, cancellation);
                if (received is null)
                {
                    logger.LogInformation("STOW part {Part} failed ({Reason:X4}): {Detail}", parts, failure!.Reason, failure.Detail);
                    response.AddFailed(failure);
                    continue;
                }

                pending.Add(received);
                if (pending.Count >= StoreBatchSize)
                {
                    await FlushAsync();
                }
            }
        }
        catch (Exception) when (ObserveAbandoned(pending))
        {
            throw; // not reached: the filter only observes the commits an unexpected failure leaves behind
        }
        catch (UploadStreamException e) when (e.InnerException is BadHttpRequestException kestrel)
        {
            await FlushAsync();
            throw kestrel; // Kestrel's verdict on the request (413 too large, 400 bad framing) stands
        }
        catch (UploadStreamException e)
        {
            // A malformed multipart body (missing close delimiter, oversize part headers) or a body that
            // ended early. What was received before it is stored and reported; the broken part is not.
            await FlushAsync();
            logger.LogInformation(e, "STOW request body is malformed after {Parts} part(s)", parts);
            if (response.Stored == 0)
            {
                return Problems.BadRequest($"The multipart body is malformed: {e.Message}");
            }

            response.AddFailed(new ReceiveFailure(ReceiveFailure.CannotUnderstand, e.Message, null, null));
        }

        await FlushAsync();
        if (parts == 0)
        {
            return Problems.BadRequest("The multipart body has no parts.");
        }

        var studyUrl = study ?? (studies.Count == 1 ? studies.First() : null);
        return new StowResult(response, studyUrl is null ? null : DicomWebMediaTypes.StudyUrl(request, studyUrl));
    }

    /// <summary>
    /// The request fails unexpectedly (cancelled, our disk): the pending commits are not recorded (as
    /// before they overlapped, a blob without its event is the orphan sweeper's), but their failures are
    /// observed. Returns false so the exception goes on.
    /// </summary>
    private static bool ObserveAbandoned(List<PendingInstance> pending)
    {
        foreach (var part in pending)
        {
            _ = part.Durable.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        return false;
    }

    private static StringSegment Parameter(MediaTypeHeaderValue media, string name) =>
        media.Parameters.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))?.Value ?? StringSegment.Empty;

    private sealed class StowResult(StowResponse response, string? studyRetrieveUrl) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = response.StatusCode;
            httpContext.Response.ContentType = DicomWebMediaTypes.DicomJson;
            await using var writer = new Utf8JsonWriter(httpContext.Response.Body);
            response.Write(writer, studyRetrieveUrl);
            await writer.FlushAsync();
        }
    }
}
