using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.StudyFeed;

public static class StudyFeedRegistration
{
    /// <summary>
    /// The study feed (document e's <c>studyEvents</c>, the DICOMweb change feed, study audit): an
    /// asynchronous projection, see <see cref="StudyFeedProjection"/>. <paramref name="signal"/> wakes
    /// waiting feed requests after each daemon commit. The daemon itself is woken by PostgreSQL
    /// NOTIFY at each commit of events (any node), not only by its polling.
    /// </summary>
    public static StoreOptions AddStudyFeedProjections(this StoreOptions options, StudyFeedSignal signal)
    {
        options.Projections.Add(new StudyFeedProjection(), ProjectionLifecycle.Async);
        options.Schema.For<StudyFeedEntry>()
            .MultiTenanted()
            .Duplicate(x => x.Sequence)
            .Duplicate(x => x.StudyInstanceUid)
            .Index(x => x.OccurredAt);
        options.Projections.AsyncListeners.Add(signal);
        options.Events.UseListenNotifyForEventAppends = true;
        return options;
    }
}
