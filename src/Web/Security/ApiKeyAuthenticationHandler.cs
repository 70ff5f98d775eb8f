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

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        if (header.Count == 0 || string.IsNullOrWhiteSpace(header[0]))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (header.Count > 1)
        {
            return Task.FromResult(AuthenticateResult.Fail("More than one Authorization header."));
        }

        var key = header[0]!.Trim();
        if (!ApiKeys.HasKeyId(key))
        {
            return Task.FromResult(AuthenticateResult.Fail("Not an API key."));
        }

        // A kept entry answers without a wait (its result's task is kept too); else the credential is read.
        return cache.Get(ApiKeys.KeyIdOf(key), clock.GetUtcNow()) is { } entry ? Verify(entry, key) : ReadAsync(key);
    }

    private async Task<AuthenticateResult> ReadAsync(string key)
    {
        await using var session = store.QuerySession();
        var credential = await session.LoadAsync<ApiKeyCredential>(ApiKeys.KeyIdOf(key).ToString(), Context.RequestAborted);
        if (credential is null || credential.Revoked)
        {
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }

        var principal = Principal.Create(SchemeName, credential.TenantId, credential.Subject, credential.Scopes);
        return await Verify(cache.Set(credential, AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)), clock.GetUtcNow()), key);
    }

    private static Task<AuthenticateResult> Verify(ApiKeyCache.Entry entry, string key) =>
        entry.Verifies(key) ? entry.Success : Task.FromResult(AuthenticateResult.Fail("Unknown or revoked API key."));
}

/// <summary>
/// Valid credentials seen in the last <see cref="Lifetime"/>, by key id, so a client's burst of requests
/// costs one database lookup rather than one each. A revocation is honoured within that lifetime
/// (docs/architecture.md, "STOW throughput"): a revoked key keeps working for at most 10 s on a node
/// that saw it just before. Unknown, wrong or revoked keys are never cached. Each entry also keeps the
/// authentication result (ticket and principal) its credential maps onto (read-only once built, shared by the entry's requests) and the last
/// key whose secret matched the stored hash, so a repeated key is compared rather than hashed again
/// (docs/architecture.md, "Retrieval: fewer bytes allocated per request").
/// </summary>
public sealed class ApiKeyCache
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);
    private const int MaxEntries = 10_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);

    /// <summary>The entry of <paramref name="keyId"/> while it is younger than <see cref="Lifetime"/>.</summary>
    public Entry? Get(ReadOnlySpan<char> keyId, DateTimeOffset now)
    {
        var byId = entries.GetAlternateLookup<ReadOnlySpan<char>>();
        if (!byId.TryGetValue(keyId, out var entry))
        {
            return null;
        }

        if (entry.Until > now)
        {
            return entry;
        }

        entries.TryRemove(new KeyValuePair<string, Entry>(entry.Credential.Id, entry));
        return null;
    }

    /// <summary>Keeps a valid (not revoked) credential and its principal for <see cref="Lifetime"/>.</summary>
    public Entry Set(ApiKeyCredential credential, AuthenticateResult success, DateTimeOffset now)
    {
        if (entries.Count >= MaxEntries)
        {
            entries.Clear(); // a bound, not a policy: many distinct keys within 10 s is not the case to optimise
        }

        var entry = new Entry(credential, success, now + Lifetime);
        entries[credential.Id] = entry;
        return entry;
    }

    public sealed class Entry(ApiKeyCredential credential, AuthenticateResult success, DateTimeOffset until)
    {
        private string? verified;

        public ApiKeyCredential Credential { get; } = credential;

        /// <summary>The scheme's answer for a key that <see cref="Verifies"/> (its ticket and principal), shared read-only.</summary>
        public Task<AuthenticateResult> Success { get; } = Task.FromResult(success);

        public DateTimeOffset Until { get; } = until;

        /// <summary>
        /// Whether <paramref name="key"/>'s secret matches the credential's hash: equal (in fixed time) to a key that
        /// matched before, or hashed and compared as the first time.
        /// </summary>
        public bool Verifies(string key)
        {
            if (Volatile.Read(ref verified) is { } known && key.Length == known.Length
                && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                    System.Runtime.InteropServices.MemoryMarshal.AsBytes(key.AsSpan()), System.Runtime.InteropServices.MemoryMarshal.AsBytes(known.AsSpan())))
            {
                return true;
            }

            if (!ApiKeys.HashMatches(key, Credential.KeyHash))
            {
                return false;
            }

            Volatile.Write(ref verified, key);
            return true;
        }
    }
}
