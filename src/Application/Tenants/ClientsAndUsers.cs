using System.Security.Cryptography;
using EventSourced.Domain.Common;
using EventSourced.Domain.Tenants;
using Marten;

namespace EventSourced.Application.Tenants;

public sealed record RegisteredClient(string TenantId, string ClientId, string ClientSecret, IReadOnlyList<string> Scopes);

public sealed record RegisteredUser(string TenantId, string Username, string Password, IReadOnlyList<string> Permissions);

/// <summary>
/// OAuth2 clients (documents a and b) and X-USERNAME users (document d), registered on the tenant's stream
/// like API keys. Secrets are returned once, on registration; only hashes are stored.
/// </summary>
public static class ClientsAndUsers
{
    public static async Task<(RegisteredClient? Registered, Rejection? Rejected)> RegisterClientAsync(
        IDocumentStore store, string tenantId, IReadOnlyList<string> scopes, Actor by, DateTimeOffset now, CancellationToken cancellation)
    {
        if (Tenant.ValidateScopes(scopes) is { } invalid)
        {
            return (null, invalid);
        }

        await using var session = store.LightweightSession();
        var streamId = Tenant.StreamId(tenantId);
        var stream = await session.Events.FetchForWriting<Tenant>(streamId, cancellation);
        if (stream.Aggregate is null)
        {
            return (null, Rejection.NotFound($"No tenant '{tenantId}'."));
        }

        var clientId = $"{tenantId}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        stream.AppendOne(new OAuthClientRegistered(streamId, tenantId, clientId, ApiKeys.Hash(secret), scopes, by, now));
        await session.SaveChangesAsync(cancellation);
        return (new RegisteredClient(tenantId, clientId, secret, scopes), null);
    }

    public static async Task<Rejection?> RevokeClientAsync(
        IDocumentStore store, string tenantId, string clientId, Actor by, DateTimeOffset now, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        var streamId = Tenant.StreamId(tenantId);
        var stream = await session.Events.FetchForWriting<Tenant>(streamId, cancellation);
        if (stream.Aggregate is null || !stream.Aggregate.ClientsActive.TryGetValue(clientId, out var active))
        {
            return Rejection.NotFound($"No client '{clientId}' in tenant '{tenantId}'.");
        }

        if (active)
        {
            stream.AppendOne(new OAuthClientRevoked(streamId, tenantId, clientId, by, now));
            await session.SaveChangesAsync(cancellation);
        }

        return null;
    }

    /// <summary>Registers an X-USERNAME user; the password is generated unless given. Usernames are unique across tenants.</summary>
    public static async Task<(RegisteredUser? Registered, Rejection? Rejected)> RegisterUserAsync(
        IDocumentStore store, string tenantId, string username, string? password, IReadOnlyList<string> permissions,
        Actor by, DateTimeOffset now, CancellationToken cancellation, int iterations = Passwords.DefaultIterations)
    {
        if (username.Length is < 1 or > 150 || username.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            return (null, Rejection.Invalid("A username is 1 to 150 characters without spaces or control characters."));
        }

        if (Tenant.ValidateScopes(permissions) is { } invalid)
        {
            return (null, invalid);
        }

        if (password is { Length: < 12 })
        {
            return (null, Rejection.Invalid("A password is at least 12 characters."));
        }

        await using var session = store.LightweightSession();
        if (await session.Events.QueryRawEventDataOnly<ArchiveUserRegistered>().AnyAsync(e => e.Username == username, cancellation))
        {
            return (null, Rejection.Conflict($"The username '{username}' is taken."));
        }

        var streamId = Tenant.StreamId(tenantId);
        var stream = await session.Events.FetchForWriting<Tenant>(streamId, cancellation);
        if (stream.Aggregate is null)
        {
            return (null, Rejection.NotFound($"No tenant '{tenantId}'."));
        }

        password ??= Passwords.Generate();
        stream.AppendOne(new ArchiveUserRegistered(streamId, tenantId, username, Passwords.Hash(password, iterations), permissions, by, now));
        await session.SaveChangesAsync(cancellation);
        return (new RegisteredUser(tenantId, username, password, permissions), null);
    }
}
