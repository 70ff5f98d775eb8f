using EventSourced.Domain.Common;
using EventSourced.Domain.Reports;

namespace EventSourced.Domain.Orders;

// The order's reports. Kept apart from the order's status so the status rework can
// derive "report available" / "completed" from HasReport / AllReportsAcknowledged without this file
// deciding the state machine.
public sealed partial record Order
{
    public ReportShelf Reports { get; init; } = ReportShelf.Empty;

    /// <summary>At least one report was delivered for the order.</summary>
    public bool HasReport => Reports.HasReport;

    /// <summary>Every report type's served version has been acknowledged by the ordering side's poll.</summary>
    public bool AllReportsAcknowledged => Reports.HasReport && Reports.AllAcknowledged;

    public Order Apply(ReportDelivered delivered) =>
        this with { Reports = Reports.Deliver(delivered.ReportId, delivered.ReportType, delivered.Version) };

    public Order Apply(ReportsAcknowledged acknowledged) =>
        this with { Reports = Reports.Acknowledge(acknowledged.Reports) };

    /// <summary>A delivery of a type the order already has amends it: a new version, unacknowledged again.</summary>
    public (ReportDelivered? Delivered, Rejection? Rejected) DeliverReport(
        Guid reportId, string reportType, ReportContent content, Actor by, DateTimeOffset now)
    {
        if (Status == OrderStatus.Deleted)
        {
            return (null, Rejection.Conflict($"Order {Id} is deleted; no report can be delivered for it."));
        }

        var (version, amends) = Reports.Next(reportType);
        return (new ReportDelivered(Id, reportId, StudyInstanceUid, reportType, version, amends, content, by, now), null);
    }

    /// <summary>Acknowledges those of <paramref name="reportIds"/> that are the order's served, unacknowledged versions; null when none is.</summary>
    public ReportsAcknowledged? AcknowledgeReports(IEnumerable<Guid> reportIds, Actor by, DateTimeOffset now) =>
        Reports.Acknowledgeable(reportIds) is { Count: > 0 } reports ? new ReportsAcknowledged(Id, reports, by, now) : null;
}
