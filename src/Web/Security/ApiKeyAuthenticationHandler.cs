using System.Text.Encodings.Web;
using EventSourced.Application.Tenants;
using EventSourced.Projections.Tenants;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace EventSourced.Web.Security;

/// <summary>
/// The PACS dialect's scheme (document e): <c>Authorization: {APIkey}</c>, 401 when absent or wrong.
/// The other schemes (OAuth2 bearer, X-USERNAME/X-PASSWORD) produce the same principal.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IDocumentStore store)
    : PrincipalAuthenticationHandler(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override string ChallengeDetail => "A valid API key is required in the Authorization header.";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        if (header.Count == 0 || string.IsNullOrWhiteSpace(header[0]))
        {
            return AuthenticateResult.NoResult();
        }

        if (header.Count > 1)
        {
            return AuthenticateResult.Fail("More than one Authorization header.");
        }

        var key = header[0]!.Trim();
        if (!ApiKeys.TryGetKeyId(key, out var keyId))
        {
            return AuthenticateResult.Fail("Not an API key.");
        }

        await using var session = store.QuerySession();
        var credential = await session.LoadAsync<ApiKeyCredential>(keyId, Context.RequestAborted);
        if (credential is null || credential.Revoked || !ApiKeys.HashMatches(key, credential.KeyHash))
        {
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }

        var principal = Principal.Create(SchemeName, credential.TenantId, credential.Subject, credential.Scopes);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }
}
