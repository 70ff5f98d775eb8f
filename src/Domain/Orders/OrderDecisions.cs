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

    private static readonly Guid WorkitemUidNamespace = new("3c1d8a4e-52b7-4f0e-9d26-7a5e0b9c4f18");

    /// <summary>
    /// The stream that holds a UPS workitem UID chosen by a client: one per (tenant, UID). Starting it is
    /// the claim; a second start of the same stream fails in the store, so two creates with one UID can
    /// never both commit (the loser is retried and then finds it taken).
    /// </summary>
    public static Guid WorkitemUidStreamId(string tenantId, string workitemUid) =>
        DeterministicGuid.ForTenant(WorkitemUidNamespace, tenantId, workitemUid);

    public static (WorkitemUidClaimed? Claimed, Rejection? Rejected) ClaimWorkitemUid(
        bool alreadyClaimed, Guid claimId, string workitemUid, Guid orderId, DateTimeOffset now) =>
        alreadyClaimed
            ? (null, Rejection.Conflict($"A workitem with the UID {workitemUid} already exists."))
            : (new WorkitemUidClaimed(claimId, workitemUid, orderId, now), null);
}

/// <summary>A UPS-RS client created an order under a workitem UID of its choosing; the UID is taken for good.</summary>
public sealed record WorkitemUidClaimed(
    Guid ClaimId,
    string WorkitemUid,
    Guid OrderId,
    DateTimeOffset ClaimedAt);
