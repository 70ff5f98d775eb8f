namespace EventSourced.Domain.Orders;

/// <summary>
/// The order's processing status, derived only from its events (<see cref="OrderProgress.Status"/>):
/// scheduled → images arriving → ready for processing → report available → completed; or failed, or
/// deleted. Stored as strings (enum names), so values may be added but never renamed.
/// </summary>
public enum OrderStatus
{
    /// <summary>Created; no instance of its study stored yet.</summary>
    Scheduled,

    /// <summary>Instances of its study are stored, but required metadata is still missing.</summary>
    ImagesArriving,

    /// <summary>Instances stored and every required metadata name present (PATCH, order fields or DICOM headers).</summary>
    ReadyForProcessing,

    /// <summary>A report was delivered for the order (reports slice: <c>ReportDelivered</c>).</summary>
    ReportAvailable,

    /// <summary>Done: the UPS procedure step was completed, or the delivered reports were acknowledged.</summary>
    Completed,

    /// <summary>Ended without being done: the metadata deadline passed, or the procedure step was canceled.</summary>
    Failed,

    /// <summary>Removed by a client; its history stays in the log.</summary>
    Deleted,
}

public static class OrderStatusExtensions
{
    /// <summary>
    /// An active order holds its StudyInstanceUID: no second order for the same study may be created,
    /// and instances stored for the study advance it. Completed, failed and deleted orders release it.
    /// </summary>
    public static bool IsActive(this OrderStatus status) =>
        status is OrderStatus.Scheduled or OrderStatus.ImagesArriving or OrderStatus.ReadyForProcessing or OrderStatus.ReportAvailable;
}

/// <summary>
/// The facts an order's status is derived from, each set by events of the order stream. Kept apart
/// from the events so that other slices' events (a delivered report, an acknowledgement) only set a
/// fact and the precedence of states lives in one pure function.
/// </summary>
public sealed record OrderProgress(
    bool HasImages = false,
    bool MetadataComplete = false,
    bool HasReport = false,
    bool Completed = false,
    bool Failed = false,
    bool Deleted = false)
{
    /// <summary>The status these facts give: an ending wins (deleted over failed over completed), then the furthest step reached.</summary>
    public OrderStatus Status => Derive(this);

    public static OrderStatus Derive(OrderProgress facts) => facts switch
    {
        { Deleted: true } => OrderStatus.Deleted,
        { Failed: true } => OrderStatus.Failed,
        { Completed: true } => OrderStatus.Completed,
        { HasReport: true } => OrderStatus.ReportAvailable,
        { HasImages: true, MetadataComplete: true } => OrderStatus.ReadyForProcessing,
        { HasImages: true } => OrderStatus.ImagesArriving,
        _ => OrderStatus.Scheduled,
    };
}
