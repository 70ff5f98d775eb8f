using EventSourced.Domain.Orders;
using Marten.Events.Aggregation;

namespace EventSourced.Projections.Orders;

/// <summary>Deterministic: every time comes from an event payload, so a rebuild reproduces the live documents.</summary>
public partial class OrderSummaryProjection : SingleStreamProjection<OrderSummary, Guid>
{
    public static OrderSummary Create(OrderCreated created)
    {
        var order = Order.Create(created);
        return new OrderSummary
        {
            Id = created.OrderId,
            StudyInstanceUid = created.Details.StudyInstanceUid,
            AccessionNumber = created.Details.AccessionNumber,
            PatientId = created.Details.PatientId,
            Status = OrderStatus.Scheduled,
            Details = created.Details,
            RequiredMetadata = created.RequiredMetadata,
            MissingMetadata = order.MissingMetadata,
            CreatedAt = created.CreatedAt,
            MetadataDueBy = created.MetadataDueBy,
            UpdatedAt = created.CreatedAt,
        };
    }

    public OrderSummary Apply(OrderMetadataAdded added, OrderSummary summary)
    {
        var metadata = new Dictionary<string, System.Text.Json.JsonElement>(summary.Metadata, Order.MetadataNameComparer);
        foreach (var (name, value) in added.Metadata)
        {
            metadata[name] = value;
        }

        var present = Order.PresentNames(added).ToHashSet(Order.MetadataNameComparer);
        return summary with
        {
            Metadata = metadata,
            MissingMetadata = [.. summary.MissingMetadata.Where(name => !present.Contains(name))],
            UpdatedAt = added.AddedAt,
        };
    }

    public OrderSummary Apply(OrderFailed failed, OrderSummary summary) => summary with
    {
        Status = OrderStatus.Failed,
        FailureReason = failed.Reason,
        FailureDetail = failed.Detail,
        UpdatedAt = failed.FailedAt,
    };

    public OrderSummary Apply(OrderDeleted deleted, OrderSummary summary) => summary with
    {
        Status = OrderStatus.Deleted,
        UpdatedAt = deleted.DeletedAt,
    };
}
