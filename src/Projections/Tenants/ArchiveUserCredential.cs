using EventSourced.Domain.Tenants;
using JasperFx.Events.Grouping;
using Marten.Events.Projections;

namespace EventSourced.Projections.Tenants;

/// <summary>An X-USERNAME user as the archive scheme looks it up: by username (unique across tenants).</summary>
public sealed record ArchiveUserCredential
{
    public string Id { get; init; } = "";
    public string TenantId { get; init; } = "";
    public string PasswordHash { get; init; } = "";
    public IReadOnlyList<string> Permissions { get; init; } = [];
    public DateTimeOffset RegisteredAt { get; init; }
}

public partial class ArchiveUserCredentialProjection : MultiStreamProjection<ArchiveUserCredential, string>
{
    public ArchiveUserCredentialProjection()
    {
        TenancyGrouping = TenancyGrouping.AcrossTenants;
        Identity<ArchiveUserRegistered>(e => e.Username);
    }

    public static ArchiveUserCredential Create(ArchiveUserRegistered registered) => new()
    {
        Id = registered.Username,
        TenantId = registered.TenantId,
        PasswordHash = registered.PasswordHash,
        Permissions = registered.Permissions,
        RegisteredAt = registered.RegisteredAt,
    };
}
