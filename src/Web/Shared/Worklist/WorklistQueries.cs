using EventSourced.Domain.Orders;
using EventSourced.Projections.Orders;
using Marten;

namespace EventSourced.Web.Shared.Worklist;

/// <summary>The worklist is the order read model seen as workitems: every order, whichever dialect made it.</summary>
public static class WorklistQueries
{
    /// <summary>The order behind a UPS SOP Instance UID; deleted orders are gone from the worklist.</summary>
    public static Task<OrderSummary?> ByWorkitemUidAsync(IQuerySession session, string workitemUid, CancellationToken cancellation) =>
        session.Query<OrderSummary>()
            .Where(x => x.WorkitemUid == workitemUid && x.Status != OrderStatus.Deleted)
            .FirstOrDefaultAsync(cancellation);

    /// <summary>Whether any order, even a deleted one, holds the UPS SOP Instance UID (a UID names one workitem forever).</summary>
    public static Task<bool> WorkitemUidTakenAsync(IQuerySession session, string workitemUid, CancellationToken cancellation) =>
        session.Query<OrderSummary>().AnyAsync(x => x.WorkitemUid == workitemUid, cancellation);

    /// <summary>Ordered by scheduled start, then creation: the order a modality works a worklist in.</summary>
    public static IOrderedEnumerable<OrderSummary> InWorklistOrder(this IEnumerable<OrderSummary> orders) =>
        orders.OrderBy(x => x.ScheduledStartDateTime, StringComparer.Ordinal).ThenBy(x => x.CreatedAt).ThenBy(x => x.Id);
}
