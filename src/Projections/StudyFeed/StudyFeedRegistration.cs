using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.StudyFeed;

public static class StudyFeedRegistration
{
    /// <summary>
    /// The study feed (document e's <c>studyEvents</c>, the DICOMweb change feed, study audit): an
    /// asynchronous projection, see <see cref="StudyFeedProjection"/>. <paramref name="signal"/> wakes
    /// waiting feed requests after each daemon commit. The daemon itself is woken by PostgreSQL
    /// NOTIFY at each commit of events (any node, <see cref="EventAppendNotice"/>), not only by its polling.
    /// </summary>
    public static StoreOptions AddStudyFeedProjections(this StoreOptions options, StudyFeedSignal signal)
    {
        options.Projections.Add(new StudyFeedProjection(), ProjectionLifecycle.Async);

        // Every member in a column (the document is empty, StudyFeedRow): the id orders and pages the feed,
        // the study (audit) and the time (the change feed's window) are indexed, the instance and the action
        // are read with them. No version or timestamp columns: a row is written once and never loaded.
        options.Policies.ForAllDocuments(mapping =>
        {
            if (mapping.DocumentType == typeof(StudyFeedRow))
            {
                mapping.DuplicateField(nameof(StudyFeedRow.SopInstanceUid));
                mapping.DuplicateField(nameof(StudyFeedRow.ChangeFeedAction));
            }
        });
        options.Schema.For<StudyFeedRow>()
            .MultiTenanted()
            .Duplicate(x => x.StudyInstanceUid)
            .Duplicate(x => x.OccurredAt)
            .Metadata(m => m.DisableInformationalFields());
        options.Projections.AsyncListeners.Add(signal);

        // Each commit of events NOTIFYs the daemon (EventAppendNotice; the service paces the wake-ups it takes).
        options.Listeners.Add(new EventAppendNotice());
        return options;
    }
}
