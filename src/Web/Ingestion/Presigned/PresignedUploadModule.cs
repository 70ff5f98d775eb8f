using System.Globalization;
using System.Security.Claims;
using Carter;
using EventSourced.Application.Ingestion;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Domain.Access;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using Marten;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace EventSourced.Web.Ingestion.Presigned;

/// <summary>
/// Document b, "Generate Presigned URL" (<c>GET /upload</c>, ingest scope) and "Upload Single Instance"
/// (<c>PUT &lt;presigned_url&gt;</c>, no Authorization header). Every refusal of the URL itself (unsigned,
/// tampered, expired, unknown key, already used, wrong method) is the same bare 403: a caller without a
/// valid URL learns nothing about why. Choices: docs/api-compatibility.md, "Document b — presigned uploads".
/// </summary>
public sealed class PresignedUploadModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapGet("/upload", Issue)
            .WithTags("Ingestion: presigned uploads")
            .WithName("GetPresignedUploadUrl")
            .RequireAuthorization(Scopes.StudiesWrite);

        // Every method is routed here so that a wrong method is the documented 403 (its signature, made
        // over PUT, does not verify) rather than a 405 that would confirm the URL's shape.
        app.MapMethods("/upload/{uploadId}", ["PUT", "POST", "GET", "DELETE", "PATCH"], Upload)
            .WithTags("Ingestion: presigned uploads")
            .WithName("PresignedUpload")
            .AllowAnonymous()
            .Accepts<Stream>("application/dicom");
    }

    private static async Task<IResult> Issue(HttpRequest request, ClaimsPrincipal user, IUploadUrlIssuer issuer, CancellationToken cancellation)
    {
        var baseUri = new Uri($"{request.Scheme}://{request.Host}{request.PathBase}/");
        var url = await issuer.IssueAsync(user.TenantId(), user.Actor("presigned-upload"), baseUri, cancellation);
        return TypedResults.Ok(new { url = url.Url.ToString(), method = url.Method, expiresAt = url.ExpiresAt, headers = url.Headers });
    }

    private static async Task<IResult> Upload(
        string uploadId, HttpContext context, HmacKeyRing keys, IDocumentStore store, InstanceIngestor ingestor,
        IOptions<IngestionOptions> ingestion, TimeProvider clock, ILogger<PresignedUploadModule> logger, CancellationToken cancellation)
    {
        var request = context.Request;
        var (verified, tenantId, nonce) = await VerifyAsync(request, uploadId, keys, clock, cancellation);
        if (!verified)
        {
            return Forbidden();
        }

        // Issued and not yet used: the stream holds exactly the issue.
        UploadUrlIssued issued;
        await using (var query = store.QuerySession(tenantId))
        {
            var events = await query.Events.FetchStreamAsync(nonce, token: cancellation);
            if (events is not [{ Data: UploadUrlIssued first }])
            {
                return Forbidden();
            }

            issued = first;
        }

        var limit = ingestion.Value.MaxInstanceBytes;
        if (request.ContentLength > limit)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, "Payload Too Large", $"One instance of at most {limit} bytes.");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit + 1;
        }

        // Receive first (the bytes become a durable blob only if they are one valid DICOM instance). A body
        // that is not DICOM is refused and does not use the URL up: the client can PUT the right file.
        StoredInstance instance;
        try
        {
            var (received, failure) = await ingestor.ReceiveAsync(request.Body, null, IngestChannel.PresignedPut, null, cancellation);
            if (received is null)
            {
                logger.LogInformation("Presigned upload refused ({Reason:X4}): {Detail}", failure!.Reason, failure.Detail);
                return failure.Reason == ReceiveFailure.OutOfResources
                    ? Problems.Create(StatusCodes.Status413PayloadTooLarge, "Payload Too Large", failure.Detail)
                    : Problems.Create(StatusCodes.Status422UnprocessableEntity, "Unprocessable Entity", $"The body is not a storable DICOM instance: {failure.Detail}");
            }

            instance = received;
        }
        catch (UploadStreamException e) when (e.InnerException is BadHttpRequestException kestrel)
        {
            throw kestrel;
        }

        // The single use: appended at the stream's next version, so of two PUTs of one URL exactly one
        // commits; the other is refused before anything is recorded (its blob is an orphan for the sweeper).
        var by = issued.IssuedBy with { Via = "presigned-put" };
        try
        {
            await using var session = store.LightweightSession(tenantId);
            session.Events.Append(nonce, 2, new UploadUrlConsumed(
                nonce, instance.StudyInstanceUid, instance.SeriesInstanceUid, instance.SopInstanceUid, by, clock.GetUtcNow()));
            await session.SaveChangesAsync(cancellation);
        }
        catch (Exception e) when (e is JasperFx.ConcurrencyException
                                      or Npgsql.PostgresException { SqlState: "23505" })
        {
            return Forbidden();
        }

        var outcome = (await ingestor.StoreAsync([instance], tenantId, by, cancellation))[0];
        if (outcome.Failure is { } refused)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "Conflict", refused.Detail);
        }

        return TypedResults.Ok(new
        {
            studyInstanceUid = instance.StudyInstanceUid,
            seriesInstanceUid = instance.SeriesInstanceUid,
            sopInstanceUid = instance.SopInstanceUid,
            outcome = outcome.Stored switch
            {
                StoreOutcome.AlreadyStored => "unchanged",
                StoreOutcome.Replaced => "replaced",
                _ => "stored",
            },
        });
    }

    private static async Task<(bool Verified, string TenantId, Guid Nonce)> VerifyAsync(
        HttpRequest request, string uploadId, HmacKeyRing keys, TimeProvider clock, CancellationToken cancellation)
    {
        var query = request.Query;
        if (!Guid.TryParseExact(uploadId, "N", out var nonce)
            || query["tenant"] is not [{ Length: > 0 } tenantId]
            || Tenant.ValidateTenantId(tenantId) is not null
            || query["expires"] is not [{ } expiresText]
            || !long.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out var expiresUnix)
            || expiresUnix > DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            || query["kid"] is not [{ Length: > 0 and <= 64 } keyId]
            || LocalUploadUrlIssuer.Base64UrlDecode(query["signature"] is [{ } s] ? s : null) is not { } signature)
        {
            return (false, "", Guid.Empty);
        }

        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(expiresUnix);
        if (clock.GetUtcNow() >= expiresAt)
        {
            return (false, "", Guid.Empty);
        }

        var text = LocalUploadUrlIssuer.SignedText(request.Method, LocalUploadUrlIssuer.PathOf(nonce), tenantId, expiresAt, nonce, keyId);
        var valid = await keys.VerifyAsync(LocalUploadUrlIssuer.Purpose, keyId, text, signature, cancellation);
        return (valid, tenantId, nonce);
    }

    private static IResult Forbidden() =>
        Problems.Create(StatusCodes.Status403Forbidden, "Forbidden", "The upload URL is invalid, expired or already used.");
}
