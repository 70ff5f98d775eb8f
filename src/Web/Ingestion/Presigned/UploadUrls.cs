using System.Globalization;
using EventSourced.Domain.Access;
using EventSourced.Domain.Common;
using EventSourced.Web.Security;
using Marten;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace EventSourced.Web.Ingestion.Presigned;

/// <summary>Configuration section <c>PresignedUploads</c>.</summary>
public sealed class PresignedUploadOptions
{
    public const string Section = "PresignedUploads";

    /// <summary>How long an issued URL can be used (document b: "time-limited").</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>What <c>GET /upload</c> hands out: where to send the instance, how, until when, with which headers.</summary>
public sealed record UploadUrl(Uri Url, string Method, DateTimeOffset ExpiresAt, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// The seam for document b's "presigned URL": this product's own signed URL today (<see cref="LocalUploadUrlIssuer"/>);
/// an S3 blob store would register an issuer handing out real S3 presigned PUT URLs instead.
/// </summary>
public interface IUploadUrlIssuer
{
    Task<UploadUrl> IssueAsync(string tenantId, Actor requestedBy, Uri baseUri, CancellationToken cancellation);
}

/// <summary>
/// A URL of this service, <c>PUT /upload/{nonce}?tenant=&amp;expires=&amp;kid=&amp;signature=</c>, signed with
/// HMAC-SHA256 of the key ring over method, path, tenant, expiry and nonce. The issue is an event on the
/// nonce's stream (the principal the PUT is stored under; the single use is appended after it).
/// </summary>
public sealed class LocalUploadUrlIssuer(HmacKeyRing keys, IDocumentStore store, IOptions<PresignedUploadOptions> options, TimeProvider clock)
    : IUploadUrlIssuer
{
    public const string Purpose = "presigned-upload";
    public const string Method = "PUT";

    public async Task<UploadUrl> IssueAsync(string tenantId, Actor requestedBy, Uri baseUri, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds((now + options.Value.Lifetime).ToUnixTimeSeconds());
        var uploadId = Guid.NewGuid(); // version 4: 122 random bits, the nonce
        var path = PathOf(uploadId);
        var (keyId, signature) = await keys.SignAsync(Purpose, kid => SignedText(Method, path, tenantId, expiresAt, uploadId, kid), cancellation);

        await using (var session = store.LightweightSession(tenantId))
        {
            session.Events.StartStream(uploadId, new UploadUrlIssued(uploadId, keyId, expiresAt, requestedBy, now));
            await session.SaveChangesAsync(cancellation);
        }

        var query = QueryHelpers.AddQueryString(new Uri(baseUri, path.TrimStart('/')).ToString(), new Dictionary<string, string?>
        {
            ["tenant"] = tenantId,
            ["expires"] = expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            ["kid"] = keyId,
            ["signature"] = Base64UrlEncode(signature),
        });
        return new UploadUrl(new Uri(query), Method, expiresAt, new Dictionary<string, string> { ["Content-Type"] = "application/dicom" });
    }

    public static string PathOf(Guid uploadId) => $"/upload/{uploadId:N}";

    public static string SignedText(string method, string path, string tenantId, DateTimeOffset expiresAt, Guid nonce, string keyId) =>
        string.Join('\n', method.ToUpperInvariant(), path, tenantId, expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), nonce.ToString("N"), keyId);

    public static string Base64UrlEncode(byte[] bytes) => WebEncoders.Base64UrlEncode(bytes);

    public static byte[]? Base64UrlDecode(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 100)
        {
            return null;
        }

        try
        {
            return WebEncoders.Base64UrlDecode(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
