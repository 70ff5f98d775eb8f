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
    IDocumentStore store,
    ApiKeyCache cache,
    TimeProvider clock)
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

        var credential = cache.Get(keyId, clock.GetUtcNow());
        if (credential is null)
        {
            await using var session = store.QuerySession();
            credential = await session.LoadAsync<ApiKeyCredential>(keyId, Context.RequestAborted);
            if (credential is { Revoked: false })
            {
                cache.Set(credential, clock.GetUtcNow());
            }
        }

        if (credential is null || credential.Revoked || !ApiKeys.HashMatches(key, credential.KeyHash))
        {
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }

        var principal = Principal.Create(SchemeName, credential.TenantId, credential.Subject, credential.Scopes);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }
}

/// <summary>
/// Valid credentials seen in the last <see cref="Lifetime"/>, by key id, so a client's burst of requests
/// costs one database lookup rather than one each. A revocation is honoured within that lifetime
/// (docs/architecture.md, "STOW throughput"): a revoked key keeps working for at most 10 s on a node
/// that saw it just before. The secret is still checked against the hash on every request; unknown,
/// wrong or revoked keys are never cached.
/// </summary>
public sealed class ApiKeyCache
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);
    private const int MaxEntries = 10_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (ApiKeyCredential Credential, DateTimeOffset Until)> entries = new(StringComparer.Ordinal);

    public ApiKeyCredential? Get(string keyId, DateTimeOffset now)
    {
        if (!entries.TryGetValue(keyId, out var entry))
        {
            return null;
        }

        if (entry.Until > now)
        {
            return entry.Credential;
        }

        entries.TryRemove(new KeyValuePair<string, (ApiKeyCredential, DateTimeOffset)>(keyId, entry));
        return null;
    }

    public void Set(ApiKeyCredential credential, DateTimeOffset now)
    {
        if (entries.Count >= MaxEntries)
        {
            entries.Clear(); // a bound, not a policy: many distinct keys within 10 s is not the case to optimise
        }

        entries[credential.Id] = (credential, now + Lifetime);
    }
}
