using System.Security.Claims;
using System.Text.Json;
using EventSourced.Application.Ingestion;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using EventSourced.Web.Shared.DicomWeb;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.DicomWeb.Stow;

/// <summary>
/// One STOW-RS request's parts, received one at a time (each written to a temporary file as it arrives)
/// and recorded in batches: the batch's blobs committed together (one group commit: the durable step paid
/// once per batch, not per part), then one transaction per study, always before the request ends,
/// whichever way it ends. A request that fails before a batch's commit leaves no blob behind (the
/// temporary files are removed); one that fails between the commit and the record leaves orphans for
/// the sweeper; no event ever names a blob that is not durable.
/// </summary>
public sealed class StowTransaction(InstanceIngestor ingestor, ILogger logger, HttpRequest request, ClaimsPrincipal user, CancellationToken cancellation)
{
    /// <summary>Instances recorded per transaction: bounds what a request holds in memory (headers only).</summary>
    private const int StoreBatchSize = 64;

    private readonly StowResponse response = new();
    private readonly HashSet<string> studies = [];
    private readonly List<PendingInstance> pending = [];

    public async Task<IResult> RunAsync(MultipartReader reader, string? study)
    {
        try
        {
            return await ReceiveAsync(reader, study);
        }
        finally
        {
            await AbandonPendingAsync(); // none left unless the request failed unexpectedly (cancelled, our disk)
        }
    }

    private async Task<IResult> ReceiveAsync(MultipartReader reader, string? study)
    {
        var parts = 0;
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

    /// <summary>Commits the pending parts' blobs together, then records them: only durable blobs are recorded.</summary>
    private async Task FlushAsync()
    {
        if (pending.Count == 0)
        {
            return;
        }

        var durable = new List<StoredInstance>(pending.Count);
        try
        {
            var outcomes = await ingestor.CommitAsync(pending, cancellation);
            for (var i = 0; i < outcomes.Count; i++)
            {
                if (outcomes[i].Instance is { } instance)
                {
                    durable.Add(instance);
                    continue;
                }

                logger.LogError(outcomes[i].Failure, "STOW: instance {Sop} could not be committed to the blob store", pending[i].SopInstanceUid);
                response.AddFailed(CouldNotBeWritten(pending[i]));
            }
        }
        catch (IOException e)
        {
            logger.LogError(e, "STOW: {Count} received instance(s) could not be committed to the blob store", pending.Count);
            durable.Clear();
            foreach (var part in pending)
            {
                response.AddFailed(CouldNotBeWritten(part));
            }
        }
        finally
        {
            await AbandonPendingAsync();
        }

        if (durable.Count > 0)
        {
            await StoreDurableAsync(durable);
        }
    }

    private static ReceiveFailure CouldNotBeWritten(PendingInstance part) =>
        new(ReceiveFailure.ProcessingFailure, "The instance could not be written to storage.", part.SopClassUid, part.SopInstanceUid);

    private async Task StoreDurableAsync(List<StoredInstance> durable)
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

    /// <summary>Disposes the pending parts: a temporary file whose blob was not committed is removed.</summary>
    private async Task AbandonPendingAsync()
    {
        foreach (var part in pending)
        {
            await part.DisposeAsync();
        }

        pending.Clear();
    }

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
