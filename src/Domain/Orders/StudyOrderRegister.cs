using System.Collections.Immutable;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Orders;

/// <summary>
/// The consistency boundary for "one active order per StudyInstanceUID" (document e: 409 when an order
/// with that StudyInstanceUID exists). One stream per tenant and StudyInstanceUID, keyed by a name-based
/// Guid; every order created, failed or deleted for the study books or releases it here in the same
/// transaction as the order's own event. Two concurrent creates both read the register at the same
/// version; the store's optimistic concurrency lets exactly one of them commit.
/// </summary>
public sealed record StudyOrderRegister(
    Guid Id,
    string StudyInstanceUid,
    Guid? ActiveOrderId,
    ImmutableList<Guid> OrderIds,
    ImmutableHashSet<Guid> DeletedOrderIds)
{
    private static readonly Guid Namespace = new("5f0f6c1e-9a7e-4c47-8a53-0f3b7f3f6a11");

    public static Guid StreamId(string tenantId, string studyInstanceUid) =>
        DeterministicGuid.ForTenant(Namespace, tenantId, studyInstanceUid);

    public static StudyOrderRegister Create(OrderBookedForStudy booked) =>
        new(booked.RegisterId, booked.StudyInstanceUid, booked.OrderId, [booked.OrderId], []);

    public StudyOrderRegister Apply(OrderBookedForStudy booked) =>
        this with { ActiveOrderId = booked.OrderId, OrderIds = OrderIds.Add(booked.OrderId) };

    public StudyOrderRegister Apply(StudyOrderReleased released) => this with
    {
        ActiveOrderId = released.OrderId == ActiveOrderId ? null : ActiveOrderId,
        DeletedOrderIds = released.EndedAs == OrderStatus.Deleted ? DeletedOrderIds.Add(released.OrderId) : DeletedOrderIds,
    };

    /// <summary>The order a study-addressed command acts on: the active one, else the most recent not deleted.</summary>
    public Guid? CurrentOrderId =>
        ActiveOrderId ?? OrderIds.Where(id => !DeletedOrderIds.Contains(id)).Cast<Guid?>().LastOrDefault();
}

/// <summary>An order took the study: from now on it is the study's active order.</summary>
public sealed record OrderBookedForStudy(
    Guid RegisterId,
    string StudyInstanceUid,
    Guid OrderId,
    DateTimeOffset BookedAt);

/// <summary>
/// One of the study's orders ended (failed, deleted, later completed). When it was the active order the
/// study is free for a new order; a deleted order is no longer the study's current order.
/// </summary>
public sealed record StudyOrderReleased(
    Guid RegisterId,
    string StudyInstanceUid,
    Guid OrderId,
    OrderStatus EndedAs,
    DateTimeOffset ReleasedAt);
