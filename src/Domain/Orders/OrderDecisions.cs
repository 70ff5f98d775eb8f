using EventSourced.Domain.Common;

namespace EventSourced.Domain.Orders;

/// <summary>Decisions that span the order stream and the study's order register.</summary>
public static class OrderDecisions
{
    /// <param name="ImagesAlreadyStored">When instances of the study were stored before the order existed:
    /// the order starts at images arriving (or ready, when their headers hold the required metadata).</param>
    public sealed record OrderCreation(OrderCreated Created, OrderBookedForStudy Booked, OrderImagesArrived? ImagesAlreadyStored);

    /// <summary>
    /// Create an order for a study. <paramref name="register"/> is the study's register in this tenant,
    /// or null when no order was ever created for the study.
    /// </summary>
    public static (OrderCreation? Creation, Rejection? Rejected) Create(
        StudyOrderRegister? register,
        Guid registerId,
        Guid orderId,
        OrderDetails details,
        IReadOnlyList<string> requiredMetadata,
        TimeSpan metadataDeadline,
        Actor by,
        DateTimeOffset now,
        string? workitemUid = null)
    {
        if (register?.ActiveOrderId is { } active)
        {
            return (null, Rejection.Conflict(
                $"An order with StudyInstanceUID {details.StudyInstanceUid} already exists (order {active})."));
        }

        var created = new OrderCreated(orderId, details, requiredMetadata, now + metadataDeadline, by, now, workitemUid);
        var booked = new OrderBookedForStudy(registerId, details.StudyInstanceUid, orderId, now);
        var images = register is { HasImages: true }
            ? new OrderImagesArrived(orderId, details.StudyInstanceUid, [], [.. register.MetadataInHeaders], by, now)
            : null;
        return (new OrderCreation(created, booked, images), null);
    }

    /// <summary>The register event recording that one of the study's orders ended.</summary>
    public static StudyOrderReleased? Release(StudyOrderRegister? register, Guid orderId, OrderStatus endedAs, DateTimeOffset now) =>
        register is not null && register.OrderIds.Contains(orderId) && !register.DeletedOrderIds.Contains(orderId)
            ? new StudyOrderReleased(register.Id, register.StudyInstanceUid, orderId, endedAs, now)
            : null;
}
