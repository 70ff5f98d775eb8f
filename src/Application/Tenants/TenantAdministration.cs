using EventSourced.Domain.Common;
using EventSourced.Domain.Tenants;
using Marten;

namespace EventSourced.Application.Tenants;

public sealed record IssuedApiKey(string TenantId, string KeyId, string Key, string Subject, IReadOnlyList<string> Scopes);

/// <summary>
/// Tenant and credential administration, used by the bootstrap command (<c>tenants …</c>). The tenant
/// registry lives in the store's default tenant: it is what tells which tenant a request belongs to.
/// </summary>
public static class TenantAdministration
{
    public static async Task<(bool Registered, Rejection? Rejected)> RegisterTenantAsync(
        IDocumentStore store, string tenantId, string displayName, Actor by, DateTimeOffset now, CancellationToken cancellation)
    {
        if (Tenant.ValidateTenantId(tenantId) is { } invalid)
        {
            return (false, invalid);
        }

        await using var session = store.LightweightSession();
        var streamId = Tenant.StreamId(tenantId);
        var stream = await session.Events.FetchForWriting<Tenant>(streamId, cancellation);
        if (stream.Aggregate is not null)
        {
            return (false, null);
        }

        stream.AppendOne(new TenantRegistered(streamId, tenantId, displayName, by, now));
        await session.SaveChangesAsync(cancellation);
        return (true, null);
    }

    public static async Task<(IssuedApiKey? Issued, Rejection? Rejected)> IssueApiKeyAsync(
        IDocumentStore store, string tenantId, string subject, IReadOnlyList<string> scopes, Actor by, DateTimeOffset now, CancellationToken cancellation)
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

        var (keyId, key) = ApiKeys.Generate();
        stream.AppendOne(new ApiKeyIssued(streamId, tenantId, keyId, ApiKeys.Hash(key), subject, scopes, by, now));
        await session.SaveChangesAsync(cancellation);
        return (new IssuedApiKey(tenantId, keyId, key, subject, scopes), null);
    }

    public static async Task<Rejection?> RevokeApiKeyAsync(
        IDocumentStore store, string tenantId, string keyId, Actor by, DateTimeOffset now, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        var streamId = Tenant.StreamId(tenantId);
        var stream = await session.Events.FetchForWriting<Tenant>(streamId, cancellation);
        if (stream.Aggregate is null || !stream.Aggregate.KeysActive.TryGetValue(keyId, out var active))
        {
            return Rejection.NotFound($"No key '{keyId}' in tenant '{tenantId}'.");
        }

        if (!active)
        {
            return null;
        }

        stream.AppendOne(new ApiKeyRevoked(streamId, tenantId, keyId, by, now));
        await session.SaveChangesAsync(cancellation);
        return null;
    }
}
