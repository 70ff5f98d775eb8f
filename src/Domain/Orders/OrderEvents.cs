using System.Text.Json;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Orders;

// Events of the order stream (key: order id, a version 7 Guid). Past tense, subject first; each
// carries its stream id, the actor and a business timestamp. Add properties as nullable only; a
// changed shape needs an upcaster (docs/architecture.md, "Event naming and versioning").

/// <param name="RequiredMetadata">The metadata names this order must have by <paramref name="MetadataDueBy"/>,
/// fixed at creation so that replaying the stream never depends on today's configuration.</param>
public sealed record OrderCreated(
    Guid OrderId,
    OrderDetails Details,
    IReadOnlyList<string> RequiredMetadata,
    DateTimeOffset MetadataDueBy,
    Actor CreatedBy,
    DateTimeOffset CreatedAt);

/// <summary>JSON metadata added to an active order (document b, <c>PATCH /add-metadata</c>), kept as received.</summary>
public sealed record OrderMetadataAdded(
    Guid OrderId,
    IReadOnlyDictionary<string, JsonElement> Metadata,
    Actor AddedBy,
    DateTimeOffset AddedAt);

public sealed record OrderFailed(
    Guid OrderId,
    OrderFailureReason Reason,
    string Detail,
    IReadOnlyList<string> MissingMetadata,
    Actor FailedBy,
    DateTimeOffset FailedAt);

public sealed record OrderDeleted(
    Guid OrderId,
    Actor DeletedBy,
    DateTimeOffset DeletedAt);

public enum OrderFailureReason
{
    /// <summary>The order still lacked required metadata when its deadline passed (document b).</summary>
    MetadataDeadlineExpired,
}
