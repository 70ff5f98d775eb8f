using System.Text.Json;
using EventSourced.Domain.Orders;

namespace EventSourced.Projections.Orders;

/// <summary>
/// The order-status read model (document a, <c>GET /status</c>, <c>GET /orderId</c>): one document per
/// order, per tenant, projected inline so a client reads its own writes.
/// </summary>
public sealed record OrderSummary
{
    public Guid Id { get; init; }
    public required string StudyInstanceUid { get; init; }
    public required string AccessionNumber { get; init; }
    public required string PatientId { get; init; }
    public OrderStatus Status { get; init; }
    public required OrderDetails Details { get; init; }
    public IReadOnlyList<string> RequiredMetadata { get; init; } = [];
    public IReadOnlyList<string> MissingMetadata { get; init; } = [];
    public IReadOnlyDictionary<string, JsonElement> Metadata { get; init; } = new Dictionary<string, JsonElement>();
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset MetadataDueBy { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public OrderFailureReason? FailureReason { get; init; }
    public string? FailureDetail { get; init; }
}
