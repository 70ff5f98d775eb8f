using EventSourced.Domain.Common;

namespace EventSourced.Domain.Orders;

/// <summary>UPS Procedure Step State (0074,1000), PS3.4 CC.1.1.</summary>
public enum ProcedureStepState
{
    Scheduled,
    InProgress,
    Completed,
    Canceled,
}

/// <summary>
/// The outcome of a UPS state change or cancellation request, in the standard's terms: the event to
/// append (none for a warning-only or failed outcome), and the PS3.4 status (hex, e.g. <c>C301</c>) with
/// its meaning. <see cref="Rejected"/> is set for failures (Invalid → 400, Conflict → 409 in UPS-RS).
/// </summary>
public sealed record ProcedureStepDecision(object? Event, string? Status, string? Meaning, Rejection? Rejected)
{
    public bool IsWarning => Rejected is null && Status is not null;

    public static ProcedureStepDecision Success(object e) => new(e, null, null, null);

    public static ProcedureStepDecision Warning(string status, string meaning) => new(null, status, meaning, null);

    public static ProcedureStepDecision Conflict(string status, string meaning) =>
        new(null, status, meaning, Rejection.Conflict($"{meaning} (0x{status})."));

    public static ProcedureStepDecision Invalid(string status, string meaning) =>
        new(null, status, meaning, Rejection.Invalid($"{meaning} (0x{status})."));
}

/// <summary>The UPS state machine of PS3.4 CC.2.1 (Table CC.2.1-2, the N-ACTION "Change UPS State" rules) on an order.</summary>
public static class ProcedureStep
{
    public static string ToDicom(this ProcedureStepState state) => state switch
    {
        ProcedureStepState.Scheduled => "SCHEDULED",
        ProcedureStepState.InProgress => "IN PROGRESS",
        ProcedureStepState.Completed => "COMPLETED",
        _ => "CANCELED",
    };

    public static ProcedureStepState? FromDicom(string? value) => value?.Trim() switch
    {
        "SCHEDULED" => ProcedureStepState.Scheduled,
        "IN PROGRESS" => ProcedureStepState.InProgress,
        "COMPLETED" => ProcedureStepState.Completed,
        "CANCELED" => ProcedureStepState.Canceled,
        _ => null,
    };

    /// <summary>
    /// Change the step's state. SCHEDULED → IN PROGRESS takes the requester's Transaction UID (it becomes
    /// the performer's key); IN PROGRESS → COMPLETED or CANCELED requires that same UID (0xC301 otherwise).
    /// A step never returns to SCHEDULED (0xC303); a step still SCHEDULED cannot be completed or canceled
    /// by a state change (0xC310; cancelling it is a cancellation request); a final state is final
    /// (0xC300), except that asking again for the state it is in is a warning (0xB304 CANCELED, 0xB306
    /// COMPLETED) with no change.
    /// </summary>
    public static ProcedureStepDecision ChangeState(Order order, ProcedureStepState requested, string? transactionUid, Actor by, DateTimeOffset now)
    {
        var current = order.ProcedureStepState;
        if (requested == ProcedureStepState.Scheduled)
        {
            return ProcedureStepDecision.Invalid("C303", "The UPS may only become SCHEDULED when it is created");
        }

        if (string.IsNullOrWhiteSpace(transactionUid))
        {
            return ProcedureStepDecision.Invalid("C301", "The Transaction UID (0008,1195) is required to change the UPS state");
        }

        switch (current)
        {
            case ProcedureStepState.Scheduled:
                return requested == ProcedureStepState.InProgress
                    ? ProcedureStepDecision.Success(new OrderProcedureStepStarted(order.Id, transactionUid, by, now))
                    : ProcedureStepDecision.Conflict("C310", "The UPS is not yet in the IN PROGRESS state");

            case ProcedureStepState.InProgress:
                if (requested == ProcedureStepState.InProgress)
                {
                    return ProcedureStepDecision.Conflict("C302", "The UPS is already IN PROGRESS");
                }

                if (!string.Equals(transactionUid, order.TransactionUid, StringComparison.Ordinal))
                {
                    return ProcedureStepDecision.Conflict("C301", "The correct Transaction UID was not provided");
                }

                return requested == ProcedureStepState.Completed
                    ? ProcedureStepDecision.Success(new OrderProcedureStepCompleted(order.Id, by, now))
                    : ProcedureStepDecision.Success(new OrderProcedureStepCanceled(order.Id, "Canceled by its performer", by, now));

            case ProcedureStepState.Completed when requested == ProcedureStepState.Completed:
                return ProcedureStepDecision.Warning("B306", "The UPS is already in the requested state of COMPLETED");

            case ProcedureStepState.Canceled when requested == ProcedureStepState.Canceled:
                return ProcedureStepDecision.Warning("B304", "The UPS is already in the requested state of CANCELED");

            default:
                return ProcedureStepDecision.Conflict("C300", $"The UPS is {current.ToDicom()} and may no longer be updated");
        }
    }

    /// <summary>
    /// A cancellation request (PS3.4 CC.2.4, PS3.18 §11.8). A SCHEDULED step has no performer yet, so
    /// this SCP cancels it at once; an IN PROGRESS step belongs to its performer, so the request is
    /// recorded for it (it cancels with its Transaction UID, or completes); a COMPLETED step cannot be
    /// canceled (0xC312); a CANCELED one already is (warning 0xB304).
    /// </summary>
    public static ProcedureStepDecision RequestCancellation(Order order, string? reason, Actor by, DateTimeOffset now) =>
        order.ProcedureStepState switch
        {
            ProcedureStepState.Scheduled => ProcedureStepDecision.Success(new OrderProcedureStepCanceled(order.Id, reason ?? "Canceled on request", by, now)),
            ProcedureStepState.InProgress => ProcedureStepDecision.Success(new OrderCancellationRequested(order.Id, reason, by, now)),
            ProcedureStepState.Completed => ProcedureStepDecision.Conflict("C312", "The UPS is already COMPLETED"),
            _ => ProcedureStepDecision.Warning("B304", "The UPS is already in the requested state of CANCELED"),
        };
}
