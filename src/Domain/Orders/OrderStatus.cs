namespace EventSourced.Domain.Orders;

/// <summary>
/// The order's processing status, derived only from its events. Later slices add the states between
/// scheduling and completion (images arriving, ready for processing, report available, completed).
/// </summary>
public enum OrderStatus
{
    Scheduled,
    Failed,
    Deleted,
}

public static class OrderStatusExtensions
{
    /// <summary>An active order holds its StudyInstanceUID: no second order for the same study may be created.</summary>
    public static bool IsActive(this OrderStatus status) => status is OrderStatus.Scheduled;
}
