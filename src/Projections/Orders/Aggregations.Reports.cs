using EventSourced.Domain.Orders;
using EventSourced.Domain.Reports;

namespace EventSourced.Projections.Orders;

// The order's report events, in their own part of the live aggregation (Aggregations.cs) so the
// report slice and the order-status slice change different files.
public partial class OrderAggregation
{
    public Order Apply(ReportDelivered delivered, Order order) => order.Apply(delivered);

    public Order Apply(ReportsAcknowledged acknowledged, Order order) => order.Apply(acknowledged);
}
