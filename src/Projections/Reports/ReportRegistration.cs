using EventSourced.Domain.Reports;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.Reports;

public static class ReportRegistration
{
    /// <summary>Reports delivered for orders and study groups, and the batch poll's read model.</summary>
    public static StoreOptions AddReportProjections(this StoreOptions options)
    {
        options.Projections.Add<StudyGroupAggregation>(ProjectionLifecycle.Live);
        options.Projections.Add<ReportPollerAggregation>(ProjectionLifecycle.Live);

        // Inline: an acknowledgement is read-your-writes for the next poll, a delivery for the next /results.
        options.Projections.Add<CurrentReportProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<CurrentReport>()
            .MultiTenanted()
            .Index(x => x.ReportId)
            .Duplicate(x => x.PollKey);

        options.Events.AddEventType<ReportDelivered>();
        options.Events.AddEventType<ReportContentErased>();
        options.Events.AddEventType<ReportsAcknowledged>();
        options.Events.AddEventType<OrderAddedToStudyGroup>();
        options.Events.AddEventType<StudyGroupReportDelivered>();
        options.Events.AddEventType<StudyGroupReportsAcknowledged>();
        options.Events.AddEventType<ReportsServedToPoller>();
        return options;
    }
}
