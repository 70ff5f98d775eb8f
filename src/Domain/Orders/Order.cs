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
    DateTimeOffset MetadataDueBy,
    ImmutableArray<string> RequiredMetadata,
    ImmutableHashSet<string> PresentMetadata,
    OrderProgress Progress,
    string WorkitemUid,
    string? TransactionUid,
    bool CancellationRequested)
{
    /// <summary>Metadata names are matched without regard to case: clients spell DICOM keywords loosely.</summary>
    public static readonly StringComparer MetadataNameComparer = StringComparer.OrdinalIgnoreCase;

    /// <summary>Derived only from the events folded so far (<see cref="OrderProgress.Derive"/>).</summary>
    /// <remarks>
    /// Reports (Order.Reports.cs) add two facts: a delivered report makes the order report-available;
    /// once the served version of every report type is acknowledged by the ordering side's poll, the
    /// order is completed. An amendment is unacknowledged again, so it takes the order back to
    /// report-available until it is acknowledged in turn.
    /// </remarks>
    public OrderStatus Status => (Progress with
    {
        MetadataComplete = MissingMetadata.Count == 0,
        HasReport = Progress.HasReport || HasReport,
        Completed = Progress.Completed || AllReportsAcknowledged,
    }).Status;

    public static Order Create(OrderCreated created) => new(
        created.OrderId,
        created.Details.StudyInstanceUid,
        created.MetadataDueBy,
        [.. created.RequiredMetadata],
        created.Details.PresentFieldNames().ToImmutableHashSet(MetadataNameComparer),
        new OrderProgress(),
        created.WorkitemUid ?? DefaultWorkitemUid(created.OrderId),
        null,
        false);

    /// <summary>
    /// The UPS SOP Instance UID of an order created without one: the order id as a UUID-derived UID
    /// (PS3.5 §B.2, <c>2.25.</c> and the UUID as an unsigned decimal), so every order is a workitem
    /// whichever dialect created it, without a lookup table.
    /// </summary>
    public static string DefaultWorkitemUid(Guid orderId)
    {
        var bytes = orderId.ToByteArray(bigEndian: true);
        return "2.25." + new System.Numerics.BigInteger(bytes, isUnsigned: true, isBigEndian: true).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public Order Apply(OrderMetadataAdded added) =>
        this with { PresentMetadata = PresentMetadata.Union(PresentNames(added)) };

    public Order Apply(OrderImagesArrived arrived) => this with
    {
        PresentMetadata = PresentMetadata.Union(arrived.MetadataInHeaders),
        Progress = Progress with { HasImages = true },
    };

    public Order Apply(OrderFailed _) => this with { Progress = Progress with { Failed = true } };

    public Order Apply(OrderDeleted _) => this with { Progress = Progress with { Deleted = true } };

    public Order Apply(OrderProcedureStepStarted started) => this with { TransactionUid = started.TransactionUid };

    public Order Apply(OrderProcedureStepCompleted _) => MarkCompleted();

    public Order Apply(OrderProcedureStepCanceled _) => this with { Progress = Progress with { Failed = true } };

    public Order Apply(OrderCancellationRequested _) => this with { CancellationRequested = true };

    /// <summary>For the reports slice's <c>ReportDelivered</c>: <c>Apply(ReportDelivered _) => MarkReportAvailable()</c>.</summary>
    public Order MarkReportAvailable() => this with { Progress = Progress with { HasReport = true } };

    /// <summary>For UPS completion and the reports slice's acknowledgement: the order is done.</summary>
    public Order MarkCompleted() => this with { Progress = Progress with { Completed = true } };

    /// <summary>
    /// The UPS Procedure Step State (0074,1000) this order shows through UPS-RS (PS3.4 CC.1.1):
    /// completed orders are COMPLETED, failed or deleted ones CANCELED, an order whose step a performer
    /// took is IN PROGRESS, every other (active) order SCHEDULED.
    /// </summary>
    public ProcedureStepState ProcedureStepState => Status switch
    {
        OrderStatus.Completed => ProcedureStepState.Completed,
        OrderStatus.Failed or OrderStatus.Deleted => ProcedureStepState.Canceled,
        _ => TransactionUid is null ? ProcedureStepState.Scheduled : ProcedureStepState.InProgress,
    };

    /// <summary>
    /// Instances of the study were stored. Recorded on an active order only; an ended order keeps its
    /// final state (the study may be re-scanned under a new order).
    /// </summary>
    public OrderImagesArrived? RecordImages(
        IReadOnlyList<string> sopInstanceUids, IReadOnlyList<string> metadataInHeaders, Actor by, DateTimeOffset now) =>
        Status.IsActive() && sopInstanceUids.Count > 0
            ? new OrderImagesArrived(Id, StudyInstanceUid, sopInstanceUids, metadataInHeaders, by, now)
            : null;

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
    /// still waiting (scheduled or images arriving) and still lacks required metadata; otherwise it decides nothing. The schedule
    /// is the time authority, but a check that arrives early (clock skew between nodes) does nothing.
    /// </summary>
    public OrderFailed? CheckMetadataDeadline(DateTimeOffset now)
    {
        // Only an order still waiting for what processing needs can miss the deadline: one that is ready,
        // has a report, or has ended is past it (metadata that came in the DICOM headers counts).
        if (Status is not (OrderStatus.Scheduled or OrderStatus.ImagesArriving) || now < MetadataDueBy)
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
