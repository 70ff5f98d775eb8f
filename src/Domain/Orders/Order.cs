using System.Collections.Immutable;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Orders;

/// <summary>
/// The order aggregate: state folded from the order stream's events, and the decisions taken on it.
/// Immutable; Create/Apply are public because Marten 9 silently skips non-public ones.
/// </summary>
public sealed partial record Order(
    Guid Id,
    string StudyInstanceUid,
    OrderStatus Status,
    DateTimeOffset MetadataDueBy,
    ImmutableArray<string> RequiredMetadata,
    ImmutableHashSet<string> PresentMetadata)
{
    /// <summary>Metadata names are matched without regard to case: clients spell DICOM keywords loosely.</summary>
    public static readonly StringComparer MetadataNameComparer = StringComparer.OrdinalIgnoreCase;

    public static Order Create(OrderCreated created) => new(
        created.OrderId,
        created.Details.StudyInstanceUid,
        OrderStatus.Scheduled,
        created.MetadataDueBy,
        [.. created.RequiredMetadata],
        created.Details.PresentFieldNames().ToImmutableHashSet(MetadataNameComparer));

    public Order Apply(OrderMetadataAdded added) =>
        this with { PresentMetadata = PresentMetadata.Union(PresentNames(added)) };

    public Order Apply(OrderFailed _) => this with { Status = OrderStatus.Failed };

    public Order Apply(OrderDeleted _) => this with { Status = OrderStatus.Deleted };

    public IReadOnlyList<string> MissingMetadata =>
        [.. RequiredMetadata.Where(name => !PresentMetadata.Contains(name))];

    /// <summary>Names whose value is present: JSON null and blank strings do not satisfy a requirement.</summary>
    public static IEnumerable<string> PresentNames(OrderMetadataAdded added) =>
        added.Metadata
            .Where(entry => entry.Value.ValueKind switch
            {
                System.Text.Json.JsonValueKind.Null or System.Text.Json.JsonValueKind.Undefined => false,
                System.Text.Json.JsonValueKind.String => !string.IsNullOrWhiteSpace(entry.Value.GetString()),
                _ => true,
            })
            .Select(entry => entry.Key);

    public Rejection? RejectIfNotActive() => Status.IsActive()
        ? null
        : Rejection.Conflict($"Order {Id} is {Status.ToString().ToLowerInvariant()}; only an active order can be changed.");

    /// <summary>Document b: "Add JSON metadata to an active order".</summary>
    public (OrderMetadataAdded? Added, Rejection? Rejected) AddMetadata(
        IReadOnlyDictionary<string, System.Text.Json.JsonElement> metadata, Actor by, DateTimeOffset now)
    {
        if (RejectIfNotActive() is { } rejected)
        {
            return (null, rejected);
        }

        if (metadata.Count == 0)
        {
            return (null, Rejection.Invalid("The metadata object has no entries."));
        }

        return (new OrderMetadataAdded(Id, metadata, by, now), null);
    }

    /// <summary>
    /// The scheduled deadline check. Idempotent and late-safe: it fails the order only while it is
    /// still scheduled and still lacks required metadata; otherwise it decides nothing. The schedule
    /// is the time authority, but a check that arrives early (clock skew between nodes) does nothing.
    /// </summary>
    public OrderFailed? CheckMetadataDeadline(DateTimeOffset now)
    {
        if (Status != OrderStatus.Scheduled || now < MetadataDueBy)
        {
            return null;
        }

        var missing = MissingMetadata;
        if (missing.Count == 0)
        {
            return null;
        }

        return new OrderFailed(
            Id,
            OrderFailureReason.MetadataDeadlineExpired,
            $"Required metadata missing at the deadline ({MetadataDueBy:O}): {string.Join(", ", missing)}.",
            missing,
            Actor.System("metadata-deadline"),
            now);
    }

    public (OrderDeleted? Deleted, Rejection? Rejected) Delete(Actor by, DateTimeOffset now) =>
        Status == OrderStatus.Deleted
            ? (null, Rejection.NotFound($"Order {Id} is already deleted."))
            : (new OrderDeleted(Id, by, now), null);
}
