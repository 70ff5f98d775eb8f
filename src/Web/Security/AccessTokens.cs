using System.Security.Cryptography;
using System.Text.Encodings.Web;
using EventSourced.Projections.Tenants;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventSourced.Web.Security;

public sealed class AccessTokenOptions
{
    public const string Section = "Auth:AccessTokens";

    /// <summary>The <c>iss</c> of every token, and the only one accepted.</summary>
    public string Issuer { get; set; } = "urn:eventsourced";

    /// <summary>The <c>aud</c> of every token, and the only one accepted.</summary>
    public string Audience { get; set; } = "urn:eventsourced:api";

    /// <summary>Documents a and b: "short-lived (1 hour)".</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// OAuth2 access tokens (RFC 9068 profile): JWS with RS256 only, <c>typ: at+jwt</c>, signed by the
/// newest key of the <see cref="SigningKeyRing"/>; claims iss, aud, sub (the client id), client_id,
/// tenant, scope (space separated), iat, nbf, exp, jti. Issuing and validating are
/// Microsoft.IdentityModel.JsonWebTokens'; nothing here parses or signs by hand.
/// </summary>
public sealed class AccessTokens(SigningKeyRing keys, IOptions<AccessTokenOptions> options, TimeProvider time)
{
    public const string TokenType = "at+jwt";
    private readonly JsonWebTokenHandler handler = new() { MapInboundClaims = false, SetDefaultTimesOnTokenCreation = false };

    public AccessTokenOptions Options => options.Value;

    public async Task<(string Token, DateTimeOffset ExpiresAt, string KeyId)> IssueAsync(
        string tenantId, string clientId, IReadOnlyCollection<string> scopes, CancellationToken cancellation, DateTimeOffset? at = null)
    {
        var (keyId, credentials) = await keys.CurrentAsync(cancellation);
        var now = at ?? time.GetUtcNow();
        var expires = now + options.Value.Lifetime;
        var token = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = options.Value.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = credentials,
            TokenType = TokenType,
            Claims = new Dictionary<string, object>
            {
                [Principal.SubjectClaim] = clientId,
                ["client_id"] = clientId,
                [Principal.TenantClaim] = tenantId,
                [Principal.ScopeClaim] = string.Join(' ', scopes),
                ["jti"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            },
        });
        return (token, expires, keyId);
    }

    /// <summary>Validates signature (RS256 only, a key of the ring), issuer, audience, lifetime with a small skew, and type.</summary>
    public async Task<TokenValidationResult> ValidateAsync(string token, CancellationToken cancellation)
    {
        string? keyId = null;
        if (handler.CanReadToken(token))
        {
            try
            {
                keyId = new JsonWebToken(token).Kid;
            }
            catch (ArgumentException)
            {
                // Not a JWS: ValidateTokenAsync says so below.
            }
        }

        var parameters = new TokenValidationParameters
        {
            ValidIssuer = options.Value.Issuer,
            ValidAudience = options.Value.Audience,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            ValidTypes = [TokenType],
            IssuerSigningKeys = await keys.ValidationKeysAsync(keyId, cancellation),
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = options.Value.ClockSkew,
            TryAllIssuerSigningKeys = false,
        };
        return await handler.ValidateTokenAsync(token, parameters);
    }
}

/// <summary>
/// <c>Authorization: Bearer {access token}</c> (documents a and b). A token whose client was revoked
/// fails at once (one lookup by client id, like API keys), not only at expiry.
/// </summary>
public sealed class AccessTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AccessTokens tokens,
    IDocumentStore store)
    : PrincipalAuthenticationHandler(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    protected override string ChallengeDetail => "A valid bearer access token (POST /oauth2/token) is required in the Authorization header.";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || value.Length <= "Bearer ".Length)
        {
            return AuthenticateResult.Fail("No bearer token.");
        }

        var result = await tokens.ValidateAsync(value["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return AuthenticateResult.Fail(result.Exception?.Message ?? "Invalid token.");
        }

        if (!jwt.TryGetPayloadValue<string>(Principal.TenantClaim, out var tenantId) || string.IsNullOrEmpty(tenantId)
            || !jwt.TryGetPayloadValue<string>(Principal.SubjectClaim, out var clientId) || string.IsNullOrEmpty(clientId))
        {
            return AuthenticateResult.Fail("The token names no tenant or subject.");
        }

        await using var session = store.QuerySession();
        var client = await session.LoadAsync<OAuthClientCredential>(clientId, Context.RequestAborted);
        if (client is null || client.Revoked || client.TenantId != tenantId)
        {
            return AuthenticateResult.Fail("The token's client is unknown or revoked.");
        }

        jwt.TryGetPayloadValue<string>(Principal.ScopeClaim, out var scope);
        var scopes = (scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Intersect(client.Scopes);
        var principal = Principal.Create(SchemeName, tenantId, clientId, scopes);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer error=\"insufficient_scope\"";
        return base.HandleForbiddenAsync(properties);
    }

    protected override Task BeforeChallengeAsync()
    {
        // RFC 6750 §3: the scheme, and error="invalid_token" when a token was presented.
        Response.Headers.WWWAuthenticate = Request.Headers.Authorization.Count > 0
            ? "Bearer error=\"invalid_token\""
            : "Bearer";
        return Task.CompletedTask;
    }
}
