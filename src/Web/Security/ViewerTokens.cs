using System.Security.Claims;
using System.Text.Json;
using EventSourced.Domain.Access;
using EventSourced.Domain.Common;
using Marten;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace EventSourced.Web.Security;

/// <summary>Configuration section <c>ViewerTokens</c>.</summary>
public sealed class ViewerTokenOptions
{
    public const string Section = "ViewerTokens";

    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>What a verified viewer token says.</summary>
public sealed record ViewerTokenClaims(Guid TokenId, string TenantId, string StudyInstanceUid, string? User, string Role, DateTimeOffset ExpiresAt)
{
    /// <summary>The principal's subject: the user the token names, else the token itself.</summary>
    public string Subject => string.IsNullOrEmpty(User) ? $"viewer-token:{TokenId:N}" : User;
}

/// <summary>
/// Document c's viewer token: <c>vt_{keyId}.{payload}.{signature}</c>, the payload base64url JSON (token id,
/// tenant, study, user, role, expiry), the signature HMAC-SHA256 of the key ring over
/// <c>viewer-token</c>, key id and payload. Self-contained (verified without a query but the key's), and
/// its issue is an event on the token's stream.
/// </summary>
public sealed class ViewerTokens(HmacKeyRing keys, IDocumentStore store, IOptions<ViewerTokenOptions> options, TimeProvider clock)
{
    public const string Prefix = "vt_";
    public const string Purpose = "viewer-token";
    public const string PatientRole = "patient";
    public const string DiagnosticRole = "diagnostic";

    /// <summary>The claim restricting a principal to one study; present only on viewer-token principals.</summary>
    public const string StudyClaim = "viewer_study";
    public const string TokenIdClaim = "viewer_token";
    public const string RoleClaim = "viewer_role";

    // No patient identifier in the payload: a token can travel in a URL (and so into logs); the
    // patientID given at issue is kept in the ViewerTokenIssued event only.
    private sealed record Payload(Guid Id, string Tenant, string Study, string? User, string Role, long Exp);

    public async Task<(string Token, ViewerTokenClaims Claims)> IssueAsync(
        string tenantId, string studyInstanceUid, string? patientId, string? user, string role, Actor issuedBy, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var claims = new ViewerTokenClaims(Guid.NewGuid(), tenantId, studyInstanceUid, user, role,
            DateTimeOffset.FromUnixTimeSeconds((now + options.Value.Lifetime).ToUnixTimeSeconds()));
        var payload = WebEncoders.Base64UrlEncode(JsonSerializer.SerializeToUtf8Bytes(new Payload(
            claims.TokenId, tenantId, studyInstanceUid, user, role, claims.ExpiresAt.ToUnixTimeSeconds())));

        // The key id is part of the signed text, so a signature cannot be moved to another key's id.
        var (keyId, signature) = await keys.SignAsync(Purpose, kid => kid + "." + payload, cancellation);

        await using (var session = store.LightweightSession(tenantId))
        {
            session.Events.StartStream(claims.TokenId, new ViewerTokenIssued(
                claims.TokenId, studyInstanceUid, patientId, user, role, claims.ExpiresAt, issuedBy, now));
            await session.SaveChangesAsync(cancellation);
        }

        return ($"{Prefix}{keyId}.{payload}.{WebEncoders.Base64UrlEncode(signature)}", claims);
    }

    /// <summary>The token's claims when it is well-formed, signed by an accepted key, and not expired; else null.</summary>
    public async Task<ViewerTokenClaims?> VerifyAsync(string token, CancellationToken cancellation)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length > 4096)
        {
            return null;
        }

        var parts = token[Prefix.Length..].Split('.');
        if (parts is not [{ Length: > 0 and <= 64 } keyId, { Length: > 0 } payload, { Length: > 0 } signatureText])
        {
            return null;
        }

        byte[] signature;
        Payload? body;
        try
        {
            signature = WebEncoders.Base64UrlDecode(signatureText);
            if (!await keys.VerifyAsync(Purpose, keyId, keyId + "." + payload, signature, cancellation))
            {
                return null;
            }

            body = JsonSerializer.Deserialize<Payload>(WebEncoders.Base64UrlDecode(payload));
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }

        if (body is null || string.IsNullOrEmpty(body.Tenant) || string.IsNullOrEmpty(body.Study))
        {
            return null;
        }

        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(body.Exp, 0, DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
        return clock.GetUtcNow() < expiresAt
            ? new ViewerTokenClaims(body.Id, body.Tenant, body.Study, body.User, body.Role, expiresAt)
            : null;
    }

    public static ClaimsPrincipal PrincipalFor(ViewerTokenClaims token, string scheme)
    {
        // The one principal (tenant, subject) with no scope at all: only the /dicomweb read endpoints,
        // whose policy admits a study-restricted principal, accept it; every other route answers 403.
        var principal = Principal.Create(scheme, token.TenantId, token.Subject, []);
        var identity = (ClaimsIdentity)principal.Identity!;
        identity.AddClaim(new Claim(StudyClaim, token.StudyInstanceUid));
        identity.AddClaim(new Claim(TokenIdClaim, token.TokenId.ToString("N")));
        identity.AddClaim(new Claim(RoleClaim, token.Role));
        return principal;
    }
}
