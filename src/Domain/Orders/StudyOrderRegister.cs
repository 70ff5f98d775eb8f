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
    ImmutableHashSet<Guid> DeletedOrderIds,
    bool HasImages,
    ImmutableSortedSet<string> MetadataInHeaders)
{
    private static readonly Guid Namespace = new("5f0f6c1e-9a7e-4c47-8a53-0f3b7f3f6a11");

    public static Guid StreamId(string tenantId, string studyInstanceUid) =>
        DeterministicGuid.ForTenant(Namespace, tenantId, studyInstanceUid);

    public static StudyOrderRegister Create(OrderBookedForStudy booked) =>
        new(booked.RegisterId, booked.StudyInstanceUid, booked.OrderId, [booked.OrderId], [], false, []);

    /// <summary>Instances arrived before any order: the register exists from then on, holding no order.</summary>
    public static StudyOrderRegister Create(StudyImagesArrived arrived) =>
        new StudyOrderRegister(arrived.RegisterId, arrived.StudyInstanceUid, null, [], [], false, []).Apply(arrived);

    public StudyOrderRegister Apply(StudyImagesArrived arrived) => this with
    {
        HasImages = true,
        MetadataInHeaders = MetadataInHeaders.Union(arrived.MetadataInHeaders),
    };

    /// <summary>
    /// Whether stored instances tell the register something new (the study's first images, or metadata
    /// names not seen in its headers before): only then is <see cref="StudyImagesArrived"/> appended, so
    /// the register stays short however many instances a study has.
    /// </summary>
    public static StudyImagesArrived? NoteImages(StudyOrderRegister? register, Guid registerId, string studyInstanceUid, IReadOnlyList<string> metadataInHeaders, DateTimeOffset now)
    {
        var known = register?.MetadataInHeaders ?? [];
        var fresh = metadataInHeaders.Where(name => !known.Contains(name)).ToList();
        return register is { HasImages: true } && fresh.Count == 0
            ? null
            : new StudyImagesArrived(registerId, studyInstanceUid, [.. known.Union(fresh)], now);
    }

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
/// Instances of the study were stored, as far as ordering needs to know: that it has images, and which
/// metadata names (<see cref="HeaderMetadata"/>) its headers carry. An order created later for the study
/// starts from these facts (its <see cref="OrderImagesArrived"/> is appended at creation).
/// </summary>
public sealed record StudyImagesArrived(
    Guid RegisterId,
    string StudyInstanceUid,
    IReadOnlyList<string> MetadataInHeaders,
    DateTimeOffset ArrivedAt);

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
