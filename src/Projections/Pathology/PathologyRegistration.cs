using EventSourced.Domain.Studies;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.Pathology;

public static class PathologyRegistration
{
    /// <summary>Document e's pathology storage: the slide files kept beside their SM instances (inline: an upload is servable by <c>wholeslide</c> when it returns).</summary>
    public static StoreOptions AddPathologyProjections(this StoreOptions options)
    {
        options.Projections.Add<WholeSlideFileProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<WholeSlideFile>().MultiTenanted();
        options.Events.AddEventType<SlideFileStored>();
        return options;
    }
}
