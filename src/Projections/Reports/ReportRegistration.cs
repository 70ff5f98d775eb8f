using EventSourced.Domain.Reports;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.Reports;

public static class ReportRegistration
{
    /// <summary>
    /// The current reports' duplicated <see cref="CurrentReport.Acknowledged"/> column, and the poll's index: the pending
    /// reports' poll keys only (<see cref="PendingPredicate"/>), so the first page of a round reads the pending reports
    /// rather than walking past every acknowledged one (docs/benchmarks.md, "Queries that grew with the archive", item 7).
    /// </summary>
    public const string AcknowledgedColumn = "acknowledged", PollKeyColumn = "poll_key", PendingPollIndex = "mt_doc_currentreport_idx_pending_poll_key",
        PendingPredicate = AcknowledgedColumn + " is not true";

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
            .Duplicate(x => x.PollKey)
            // The column's index is the poll's: the pending reports' poll keys (a column's statistics, unlike an
            // expression's, tell the planner how few are pending).
            .Duplicate(x => x.Acknowledged, configure: index =>
            {
                index.Name = PendingPollIndex;
                index.Columns = [PollKeyColumn];
                index.Predicate = PendingPredicate;
            });

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
