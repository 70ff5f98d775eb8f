using System.Security.Claims;
using System.Text;
using System.Text.Json.Serialization;
using Carter;
using EventSourced.Application.Ingestion;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using EventSourced.Web.Shared.Errors;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.Archive;

/// <summary>Upload series: the four UIDs as stored (the retina rule applied to SeriesInstanceUID).</summary>
public sealed record ArchiveUploadResponse(
    [property: JsonPropertyName("PatientID")] string PatientId,
    [property: JsonPropertyName("StudyInstanceUID")] string StudyInstanceUid,
    [property: JsonPropertyName("SeriesInstanceUID")] string SeriesInstanceUid,
    [property: JsonPropertyName("SOPInstanceUID")] string SopInstanceUid);

/// <summary>
/// Document d, "Upload series": <c>POST /api/v1/instance/upload/</c>, multipart/form-data with the fields
/// Project, Archive and file (one DICOM file). The file takes the one ingestion path
/// (<see cref="InstanceIngestor"/>, channel ArchiveUpload), and is filed into the project's archive in
/// the same transaction as it is stored (<c>InstanceFiledInArchive</c>). Needs both permissions the
/// document names: upload_project and api_instance_upload.
/// </summary>
public sealed class ArchiveUploadModule : ICarterModule
{
    /// <summary>Project and Archive are names, not documents: a field larger than this is refused.</summary>
    private const int MaxFieldBytes = 4096;

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapPost(ArchiveRoutes.InstanceUpload, Upload)
            .WithTags("Archive API v1")
            .WithName("ArchiveUploadInstance")
            .RequireAuthorization(Scopes.Archive.UploadProject)
            .RequireAuthorization(Scopes.Archive.InstanceUpload)
            .Produces<ArchiveUploadResponse>(); // no Accepts(): its content-type matching would route other bodies away from the doc-d error
        app.MapMethodNotAllowed(ArchiveRoutes.InstanceUpload, "POST");
    }

    private static IResult Invalid(string message, string? suberror = null) =>
        ArchiveErrors.Error(ArchiveErrors.InvalidPostValue, suberror, message);

    private static async Task<IResult> Upload(HttpRequest request, ClaimsPrincipal user, InstanceIngestor ingestor, ILogger<ArchiveUploadModule> logger, CancellationToken cancellation)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return Invalid("Send Project, Archive and the DICOM file as multipart/form-data (the file in the field 'file').", "no_data_submitted");
        }

        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).ToString();
        if (!UploadMultipart.IsAcceptableBoundary(boundary))
        {
            return Invalid("The multipart/form-data Content-Type has no valid boundary.", "no_data_submitted");
        }

        var reader = UploadMultipart.Reader(boundary, request.Body);
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        StoredInstance? received = null;
        var files = 0;
        try
        {
            while (await UploadMultipart.NextSectionAsync(reader, cancellation) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    await UploadMultipart.DrainAsync(section.Body, cancellation);
                    continue;
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).ToString();
                if (name.Equals("file", StringComparison.Ordinal))
                {
                    if (++files > 1)
                    {
                        // One file per call; the one already received is not stored (its blob is swept as an orphan).
                        return Invalid("Upload one file per call in the field 'file'.");
                    }

                    var (instance, failure) = await ingestor.ReceiveAsync(section.Body, null, IngestChannel.ArchiveUpload, null, cancellation);
                    if (failure is not null)
                    {
                        logger.LogInformation("Archive upload refused ({Reason:X4}): {Detail}", failure.Reason, failure.Detail);
                        return Invalid(failure.Detail);
                    }

                    received = instance;
                }
                else if (name is "Project" or "Archive" or "project" or "archive")
                {
                    if (await ReadFieldAsync(section.Body, cancellation) is not { } value)
                    {
                        return Invalid($"The field '{name}' is larger than {MaxFieldBytes} bytes.");
                    }

                    fields[name] = value.Trim();
                }
                else
                {
                    await UploadMultipart.DrainAsync(section.Body, cancellation);
                }
            }
        }
        catch (UploadStreamException e) when (e.InnerException is BadHttpRequestException kestrel)
        {
            throw kestrel;
        }
        catch (UploadStreamException e)
        {
            return Invalid($"The multipart body is malformed: {e.Message}", "no_data_submitted");
        }

        var project = fields.GetValueOrDefault("Project");
        var archive = fields.GetValueOrDefault("Archive");
        var missing = new[] { ("Project", project), ("Archive", archive) }.Where(f => string.IsNullOrEmpty(f.Item2)).Select(f => f.Item1).ToList();
        if (missing.Count > 0)
        {
            return Invalid($"Missing parameter(s): {string.Join(", ", missing)}.");
        }

        if (!ArchivePlacement.IsValidName(project) || !ArchivePlacement.IsValidName(archive))
        {
            return Invalid($"Project and Archive are 1 to {ArchivePlacement.MaxLength} characters without control characters.");
        }

        if (received is null)
        {
            return Invalid("No file was submitted in the field 'file'.", "no_data_submitted");
        }

        var outcome = (await ingestor.StoreAsync([received], user.TenantId(), user.Actor("archive-api"), cancellation, new ArchivePlacement(project!, archive!)))[0];
        if (outcome.Failure is { } refused)
        {
            logger.LogInformation("Archive upload not stored: {Detail}", refused.Detail);
            return Invalid(refused.Detail);
        }

        return TypedResults.Json(new ArchiveUploadResponse(
            ArchiveDecisions.PatientIdOf(received.Header)!,
            received.StudyInstanceUid,
            RetinaSopClasses.ArchiveSeriesUid(received.SopClassUid, received.SeriesInstanceUid, received.SopInstanceUid),
            received.SopInstanceUid));
    }

    /// <summary>A text field, UTF-8, read with a bound; null when it is larger.</summary>
    private static async Task<string?> ReadFieldAsync(Stream body, CancellationToken cancellation) =>
        await UploadMultipart.ReadBoundedAsync(body, MaxFieldBytes, cancellation) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;
}
