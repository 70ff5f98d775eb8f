using EventSourced.Domain.Forwarding;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.Forwarding;

/// <summary>Forwards to peers: their events, and the inline <see cref="ForwardProjection"/> with its indexes.</summary>
public static class ForwardingRegistration
{
    public static StoreOptions AddForwardingProjections(this StoreOptions options)
    {
        options.Events.AddEventType<ForwardRequested>();
        options.Events.AddEventType<SeriesForwarded>();
        options.Events.AddEventType<ForwardFailed>();
        options.Events.AddEventType<ForwardRetried>();
        options.Projections.Add<ForwardProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<Forward>()
            .MultiTenanted()
            .Index(x => x.State)
            .Index(x => x.RequestedAt);
        return options;
    }
}
