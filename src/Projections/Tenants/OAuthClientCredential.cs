using EventSourced.Domain.Tenants;
using JasperFx.Events.Grouping;
using Marten.Events.Projections;

namespace EventSourced.Projections.Tenants;

/// <summary>An OAuth2 client as the token endpoint looks it up: by client id, never by secret.</summary>
public sealed record OAuthClientCredential
{
    public string Id { get; init; } = "";
    public string TenantId { get; init; } = "";
    public string SecretHash { get; init; } = "";
    public IReadOnlyList<string> Scopes { get; init; } = [];
    public bool Revoked { get; init; }
    public DateTimeOffset RegisteredAt { get; init; }
}

public partial class OAuthClientCredentialProjection : MultiStreamProjection<OAuthClientCredential, string>
{
    public OAuthClientCredentialProjection()
    {
        // Like API keys: global (they decide the tenant), their events in the default tenant.
        TenancyGrouping = TenancyGrouping.AcrossTenants;
        Identity<OAuthClientRegistered>(e => e.ClientId);
        Identity<OAuthClientRevoked>(e => e.ClientId);
    }

    public static OAuthClientCredential Create(OAuthClientRegistered registered) => new()
    {
        Id = registered.ClientId,
        TenantId = registered.TenantId,
        SecretHash = registered.SecretHash,
        Scopes = registered.Scopes,
        RegisteredAt = registered.RegisteredAt,
    };

    public OAuthClientCredential Apply(OAuthClientRevoked revoked, OAuthClientCredential credential) => credential with { Revoked = true };
}
