using EventSourced.Domain.Tenants;
using JasperFx.Events.Grouping;
using Marten.Events.Projections;

namespace EventSourced.Projections.Tenants;

/// <summary>An API key as the authentication handler looks it up: by key id (embedded in the key), never by secret.</summary>
public sealed record ApiKeyCredential
{
    public string Id { get; init; } = "";
    public string TenantId { get; init; } = "";
    public string KeyHash { get; init; } = "";
    public string Subject { get; init; } = "";
    public IReadOnlyList<string> Scopes { get; init; } = [];
    public bool Revoked { get; init; }
    public DateTimeOffset IssuedAt { get; init; }
}

public partial class ApiKeyCredentialProjection : MultiStreamProjection<ApiKeyCredential, string>
{
    public ApiKeyCredentialProjection()
    {
        // Credentials are global (they decide the tenant); their events live in the default tenant.
        TenancyGrouping = TenancyGrouping.AcrossTenants;
        Identity<ApiKeyIssued>(e => e.KeyId);
        Identity<ApiKeyRevoked>(e => e.KeyId);
    }

    public static ApiKeyCredential Create(ApiKeyIssued issued) => new()
    {
        Id = issued.KeyId,
        TenantId = issued.TenantId,
        KeyHash = issued.KeyHash,
        Subject = issued.Subject,
        Scopes = issued.Scopes,
        IssuedAt = issued.IssuedAt,
    };

    public ApiKeyCredential Apply(ApiKeyRevoked revoked, ApiKeyCredential credential) => credential with { Revoked = true };
}

public partial class TenantAggregation : Marten.Events.Aggregation.SingleStreamProjection<Tenant, Guid>
{
    public static Tenant Create(TenantRegistered registered) => Tenant.Create(registered);

    public Tenant Apply(ApiKeyIssued issued, Tenant tenant) => tenant.Apply(issued);

    public Tenant Apply(ApiKeyRevoked revoked, Tenant tenant) => tenant.Apply(revoked);

    public Tenant Apply(OAuthClientRegistered registered, Tenant tenant) => tenant.Apply(registered);

    public Tenant Apply(OAuthClientRevoked revoked, Tenant tenant) => tenant.Apply(revoked);

    public Tenant Apply(ArchiveUserRegistered registered, Tenant tenant) => tenant.Apply(registered);
}
