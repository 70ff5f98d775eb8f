using EventSourced.Domain.Reports;
using JasperFx.Events;

namespace EventSourced.Projections.Orders;

// The order's audit trail (OrderHistory.cs) also shows its reports: who delivered which version, who
// acknowledged it. In its own part of the projection so the two slices change different files.
public partial class OrderHistoryProjection
{
    public OrderHistory Apply(IEvent<ReportDelivered> e, OrderHistory history) =>
        Append(history, Entry(e, e.Data.DeliveredBy, e.Data.DeliveredAt,
            $"Report '{e.Data.ReportType}' version {e.Data.Version} delivered ({e.Data.Content.MediaType}, {e.Data.Content.Blob.Length} bytes, report {e.Data.ReportId})."));

    public OrderHistory Apply(IEvent<ReportsAcknowledged> e, OrderHistory history) =>
        Append(history, Entry(e, e.Data.AcknowledgedBy, e.Data.AcknowledgedAt,
            $"Reports acknowledged: {string.Join(", ", e.Data.Reports.Select(r => $"'{r.ReportType}' ({r.ReportId})"))}."));
}
