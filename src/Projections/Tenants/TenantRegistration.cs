using EventSourced.Domain.Tenants;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.Tenants;

public static class TenantRegistration
{
    public static StoreOptions AddTenantProjections(this StoreOptions options)
    {
        options.Projections.Add<TenantAggregation>(ProjectionLifecycle.Live);
        options.Projections.Add<ApiKeyCredentialProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<ApiKeyCredential>().SingleTenanted();
        options.Events.AddEventType<TenantRegistered>();
        options.Events.AddEventType<ApiKeyIssued>();
        options.Events.AddEventType<ApiKeyRevoked>();
        options.Projections.Add<OAuthClientCredentialProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<OAuthClientCredential>().SingleTenanted();
        options.Projections.Add<ArchiveUserCredentialProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<ArchiveUserCredential>().SingleTenanted();
        options.Events.AddEventType<OAuthClientRegistered>();
        options.Events.AddEventType<OAuthClientRevoked>();
        options.Events.AddEventType<ArchiveUserRegistered>();
        return options;
    }
}
