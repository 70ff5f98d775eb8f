using System.Collections.Immutable;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Tenants;

// The tenant registry: one stream per tenant (organization), kept in the store's default tenant because
// it is what decides which tenant a request belongs to. Secrets never enter an event: only their
// SHA-256 hash (API keys are 256-bit random values, so a fast hash is not guessable; see
// docs/architecture.md, "Identity and access").

public sealed record TenantRegistered(Guid TenantStreamId, string TenantId, string DisplayName, Actor RegisteredBy, DateTimeOffset RegisteredAt);

public sealed record ApiKeyIssued(
    Guid TenantStreamId,
    string TenantId,
    string KeyId,
    string KeyHash,
    string Subject,
    IReadOnlyList<string> Scopes,
    Actor IssuedBy,
    DateTimeOffset IssuedAt);

public sealed record ApiKeyRevoked(Guid TenantStreamId, string TenantId, string KeyId, Actor RevokedBy, DateTimeOffset RevokedAt);

public sealed record Tenant(Guid Id, string TenantId, string DisplayName, ImmutableDictionary<string, bool> KeysActive)
{
    private static readonly Guid Namespace = new("0b7c3f52-55a4-4d0f-9c0e-2f7d3d1c8e21");

    public static Guid StreamId(string tenantId) => DeterministicGuid.Create(Namespace, tenantId);

    public static Tenant Create(TenantRegistered registered) =>
        new(registered.TenantStreamId, registered.TenantId, registered.DisplayName, ImmutableDictionary<string, bool>.Empty);

    public Tenant Apply(ApiKeyIssued issued) => this with { KeysActive = KeysActive.SetItem(issued.KeyId, true) };

    public Tenant Apply(ApiKeyRevoked revoked) => this with { KeysActive = KeysActive.SetItem(revoked.KeyId, false) };

    /// <summary>Tenant ids become part of URLs, logs and the store's tenant column: keep them plain.</summary>
    public static Rejection? ValidateTenantId(string tenantId) =>
        tenantId.Length is >= 1 and <= 64 && tenantId.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            && char.IsAsciiLetterOrDigit(tenantId[0])
            ? null
            : Rejection.Invalid("A tenant id is 1 to 64 characters of lower-case letters, digits and '-', starting with a letter or digit.");

    public static Rejection? ValidateScopes(IEnumerable<string> scopes)
    {
        var unknown = scopes.Where(s => !Tenants.Scopes.All.Contains(s)).ToList();
        return unknown.Count == 0 ? null : Rejection.Invalid($"Unknown scope(s): {string.Join(", ", unknown)}.");
    }
}

/// <summary>The permissions a principal can hold. Every dialect's credentials map onto these.</summary>
public static class Scopes
{
    public const string OrdersRead = "orders.read";
    public const string OrdersWrite = "orders.write";

    /// <summary>Query and retrieve studies (QIDO-RS, WADO-RS and the dialects' equivalents).</summary>
    public const string StudiesRead = "studies.read";

    /// <summary>Store instances (STOW-RS and the dialects' uploads).</summary>
    public const string StudiesWrite = "studies.write";

    public static readonly ImmutableHashSet<string> All = [OrdersRead, OrdersWrite, StudiesRead, StudiesWrite];
}
