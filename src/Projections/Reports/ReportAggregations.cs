using EventSourced.Domain.Reports;
using Marten.Events.Aggregation;

namespace EventSourced.Projections.Reports;

public partial class StudyGroupAggregation : SingleStreamProjection<StudyGroup, Guid>
{
    public static StudyGroup Create(OrderAddedToStudyGroup added) => StudyGroup.Create(added);

    public StudyGroup Apply(OrderAddedToStudyGroup added, StudyGroup group) => group.Apply(added);

    public StudyGroup Apply(StudyGroupReportDelivered delivered, StudyGroup group) => group.Apply(delivered);

    public StudyGroup Apply(StudyGroupReportsAcknowledged acknowledged, StudyGroup group) => group.Apply(acknowledged);
}

public partial class ReportPollerAggregation : SingleStreamProjection<ReportPoller, Guid>
{
    public static ReportPoller Create(ReportsServedToPoller served) => ReportPoller.Create(served);

    public ReportPoller Apply(ReportsServedToPoller served, ReportPoller poller) => poller.Apply(served);
}
