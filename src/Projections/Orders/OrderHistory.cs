using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using JasperFx.Events;
using Marten.Events.Aggregation;

namespace EventSourced.Projections.Orders;

/// <summary>
/// An order's audit trail: each event with its position, time and actor. Projected asynchronously by
/// the daemon (it is not needed to answer the writer), which also keeps an async projection in the
/// first slice so the daemon's configuration is exercised from day one.
/// </summary>
public sealed record OrderHistory
{
    public Guid Id { get; init; }
    public string StudyInstanceUid { get; init; } = "";
    public IReadOnlyList<OrderHistoryEntry> Entries { get; init; } = [];
}

public sealed record OrderHistoryEntry(long Sequence, long Version, string EventType, DateTimeOffset At, string Subject, string Via, string Summary);

public partial class OrderHistoryProjection : SingleStreamProjection<OrderHistory, Guid>
{
    public static OrderHistory Create(IEvent<OrderCreated> e) => new()
    {
        Id = e.Data.OrderId,
        StudyInstanceUid = e.Data.Details.StudyInstanceUid,
        Entries = [Entry(e, e.Data.CreatedBy, e.Data.CreatedAt, $"Order created for study {e.Data.Details.StudyInstanceUid}, accession {e.Data.Details.AccessionNumber}; metadata due by {e.Data.MetadataDueBy:O}.")],
    };

    public OrderHistory Apply(IEvent<OrderMetadataAdded> e, OrderHistory history) =>
        Append(history, Entry(e, e.Data.AddedBy, e.Data.AddedAt, $"Metadata added: {string.Join(", ", e.Data.Metadata.Keys)}."));

    public OrderHistory Apply(IEvent<OrderFailed> e, OrderHistory history) =>
        Append(history, Entry(e, e.Data.FailedBy, e.Data.FailedAt, $"Order failed ({e.Data.Reason}): {e.Data.Detail}"));

    public OrderHistory Apply(IEvent<OrderDeleted> e, OrderHistory history) =>
        Append(history, Entry(e, e.Data.DeletedBy, e.Data.DeletedAt, "Order deleted."));

    public OrderHistory Apply(IEvent<OrderImagesArrived> e, OrderHistory history) =>
        Append(history, Entry(e, e.Data.StoredBy, e.Data.ArrivedAt, e.Data.SopInstanceUids.Count == 0
            ? $"Images of the study were already stored when the order was created; headers hold: {string.Join(", ", e.Data.MetadataInHeaders)}."
            : $"{e.Data.SopInstanceUids.Count} instance(s) stored; headers hold: {string.Join(", ", e.Data.MetadataInHeaders)}."));

    public OrderHistory Apply(IEvent<OrderProcedureStepStarted> e, OrderHistory history) =>
        Append(history, Entry(e, e.Data.StartedBy, e.Data.StartedAt, "Procedure step IN PROGRESS."));

    public OrderHistory Apply(IEvent<OrderProcedureStepCompleted> e, OrderHistory history) =>
        Append(history, Entry(e, e.Data.CompletedBy, e.Data.CompletedAt, "Procedure step COMPLETED."));

    public OrderHistory Apply(IEvent<OrderProcedureStepCanceled> e, OrderHistory history) =>
        Append(history, Entry(e, e.Data.CanceledBy, e.Data.CanceledAt, $"Procedure step CANCELED: {e.Data.Reason}"));

    public OrderHistory Apply(IEvent<OrderCancellationRequested> e, OrderHistory history) =>
        Append(history, Entry(e, e.Data.RequestedBy, e.Data.RequestedAt, $"Cancellation requested: {e.Data.Reason}"));

    public OrderHistory Apply(IEvent<OrderPatientErased> e, OrderHistory history) =>
        Append(history, Entry(e, e.Data.ErasedBy, e.Data.ErasedAt, $"The patient's personal data were erased (erasure {e.Data.ErasureId})."));

    private static OrderHistory Append(OrderHistory history, OrderHistoryEntry entry) =>
        history with { Entries = [.. history.Entries, entry] };

    private static OrderHistoryEntry Entry(IEvent e, Actor by, DateTimeOffset at, string summary) =>
        new(e.Sequence, e.Version, e.EventTypeName, at, by.Subject, by.Via, summary);
}
