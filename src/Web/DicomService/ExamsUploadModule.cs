using System.Security.Claims;
using System.Text.Json;
using Carter;
using EventSourced.Application.Ingestion;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Dicom;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Shared.DicomWeb;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.DicomService;

/// <summary>
/// Document c, "Exams upload" (<c>POST /exams</c>, multipart/form-data with the file in field <c>file</c>)
/// and "UID generation" (<c>GET /uid</c>). The upload takes the same ingestion path as STOW-RS and answers
/// with the document's body: an array holding the STOW-RS response data set.
/// </summary>
public sealed class ExamsUploadModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapPost("/exams", Upload)
            .WithTags("DICOM service: exams")
            .WithName("UploadExam")
            .RequireAuthorization(Scopes.StudiesWrite)
            .Accepts<IFormFile>("multipart/form-data")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        app.MapGet("/uid", (IConfiguration configuration) =>
                TypedResults.Ok(new { uid = DicomUid.Generate(configuration["Dicom:OrganizationUidRoot"]) }))
            .WithTags("DICOM service: UIDs")
            .WithName("GenerateUid");
    }

    private static async Task<IResult> Upload(HttpRequest request, ClaimsPrincipal user, InstanceIngestor ingestor, ILogger<ExamsUploadModule> logger, CancellationToken cancellation)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type", "Send the DICOM file as multipart/form-data in the field 'file'.");
        }

        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).ToString();
        if (!UploadMultipart.IsAcceptableBoundary(boundary))
        {
            return Problems.BadRequest("The multipart/form-data Content-Type has no valid boundary.");
        }

        var reader = UploadMultipart.Reader(boundary, request.Body);
        var response = new StowResponse();
        var files = 0;
        try
        {
            while (await UploadMultipart.NextSectionAsync(reader, cancellation) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !HeaderUtilities.RemoveQuotes(disposition.Name).Equals("file", StringComparison.Ordinal))
                {
                    await UploadMultipart.DrainAsync(section.Body, cancellation);
                    continue;
                }

                files++;
                var outcome = await ingestor.IngestAsync(section.Body, null, IngestChannel.ExamsUpload, null, user.TenantId(), user.Actor("dicom-service"), cancellation);
                if (outcome.Failure is { } failure)
                {
                    logger.LogInformation("Exam upload refused ({Reason:X4}): {Detail}", failure.Reason, failure.Detail);
                    response.AddFailed(failure);
                    continue;
                }

                var i = outcome.Instance!;
                response.AddStored(i.SopClassUid, i.SopInstanceUid,
                    DicomWebMediaTypes.InstanceUrl(request, i.StudyInstanceUid, i.SeriesInstanceUid, i.SopInstanceUid));
            }
        }
        catch (UploadStreamException e) when (e.InnerException is BadHttpRequestException kestrel)
        {
            throw kestrel;
        }
        catch (UploadStreamException e)
        {
            return Problems.BadRequest($"The multipart body is malformed: {e.Message}");
        }

        if (files == 0)
        {
            return Problems.BadRequest("No file was submitted in the field 'file'.");
        }

        // The document: 200 uploaded, 422 "the request is trying to insert a non-DICOM file". A file that
        // is DICOM but collides with a stored instance is a 409 (docs/api-compatibility.md).
        var status = response.Failed == 0
            ? StatusCodes.Status200OK
            : response.Stored > 0 ? StatusCodes.Status202Accepted
            : response.FailureReasons.All(r => r == ReceiveFailure.DuplicateSopInstance) ? StatusCodes.Status409Conflict
            : StatusCodes.Status422UnprocessableEntity;
        return new ExamsResult(response, status);
    }

    private sealed class ExamsResult(StowResponse response, int status) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = "application/json";
            await using var writer = new Utf8JsonWriter(httpContext.Response.Body);
            writer.WriteStartArray();
            response.Write(writer, studyRetrieveUrl: null);
            writer.WriteEndArray();
            await writer.FlushAsync();
        }
    }
}
