using System.Text.Json;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Orders;

// Events of the order stream (key: order id, a version 7 Guid). Past tense, subject first; each
// carries its stream id, the actor and a business timestamp. Add properties as nullable only; a
// changed shape needs an upcaster (docs/architecture.md, "Event naming and versioning").

/// <param name="WorkitemUid">The UPS SOP Instance UID a UPS-RS client chose at creation
/// (<c>POST /dicomweb/workitems?{uid}</c>); null: the order's default UID, <see cref="Order.DefaultWorkitemUid"/>.</param>
/// <param name="RequiredMetadata">The metadata names this order must have by <paramref name="MetadataDueBy"/>,
/// fixed at creation so that replaying the stream never depends on today's configuration.</param>
public sealed record OrderCreated(
    Guid OrderId,
    OrderDetails Details,
    IReadOnlyList<string> RequiredMetadata,
    DateTimeOffset MetadataDueBy,
    Actor CreatedBy,
    DateTimeOffset CreatedAt,
    string? WorkitemUid = null);

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

    /// <summary>Its UPS procedure step was canceled (PS3.4 CC.2.1: by the performer, or by the SCP on a cancellation request).</summary>
    ProcedureStepCanceled,
}

/// <summary>
/// Instances of the order's study were stored (any channel: STOW-RS, /exams, archive upload, presigned
/// PUT), recorded on the study's active order. <paramref name="MetadataInHeaders"/>: the metadata names
/// (DICOM keywords, <see cref="HeaderMetadata"/>) the stored headers hold a value for; they count as
/// present metadata, like a PATCH. Names only: the values stay in the study's events.
/// </summary>
public sealed record OrderImagesArrived(
    Guid OrderId,
    string StudyInstanceUid,
    IReadOnlyList<string> SopInstanceUids,
    IReadOnlyList<string> MetadataInHeaders,
    Actor StoredBy,
    DateTimeOffset ArrivedAt);

/// <summary>UPS-RS: the procedure step went SCHEDULED → IN PROGRESS under the performer's Transaction UID (PS3.4 CC.2.1).</summary>
public sealed record OrderProcedureStepStarted(
    Guid OrderId,
    string TransactionUid,
    Actor StartedBy,
    DateTimeOffset StartedAt);

/// <summary>UPS-RS: the performer completed the procedure step (IN PROGRESS → COMPLETED); the order is completed.</summary>
public sealed record OrderProcedureStepCompleted(
    Guid OrderId,
    Actor CompletedBy,
    DateTimeOffset CompletedAt);

/// <summary>
/// UPS-RS: the procedure step was canceled, by its performer (IN PROGRESS → CANCELED with the Transaction
/// UID) or by this SCP on a cancellation request for a step still SCHEDULED. The order fails with reason
/// <see cref="OrderFailureReason.ProcedureStepCanceled"/>.
/// </summary>
public sealed record OrderProcedureStepCanceled(
    Guid OrderId,
    string? Reason,
    Actor CanceledBy,
    DateTimeOffset CanceledAt);

/// <summary>UPS-RS: cancellation was requested for a step IN PROGRESS; only its performer can cancel it (PS3.4 CC.2.4).</summary>
public sealed record OrderCancellationRequested(
    Guid OrderId,
    string? Reason,
    Actor RequestedBy,
    DateTimeOffset RequestedAt);
