using EventSourced.Application.Common;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using Marten;

namespace EventSourced.Application.Worklist;

/// <summary>UPS-RS Change Workitem State (PS3.18 §11.7): the order's procedure step to <paramref name="Requested"/>.</summary>
public sealed record ChangeProcedureStepState(Guid OrderId, ProcedureStepState Requested, string? TransactionUid, Actor By);

/// <summary>UPS-RS Request Cancellation (PS3.18 §11.8).</summary>
public sealed record RequestProcedureStepCancellation(Guid OrderId, string? Reason, Actor By);

public static class ProcedureStepHandler
{
    public static Task<CommandResult<ProcedureStepDecision>> Handle(
        ChangeProcedureStepState command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation) =>
        Decide(session, command.OrderId, cancellation,
            order => ProcedureStep.ChangeState(order, command.Requested, command.TransactionUid, command.By, clock.GetUtcNow()));

    public static Task<CommandResult<ProcedureStepDecision>> Handle(
        RequestProcedureStepCancellation command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation) =>
        Decide(session, command.OrderId, cancellation,
            order => ProcedureStep.RequestCancellation(order, command.Reason, command.By, clock.GetUtcNow()));

    /// <summary>Load, decide, append; an ending (completed, canceled) also releases the study's register in the same transaction.</summary>
    private static async Task<CommandResult<ProcedureStepDecision>> Decide(
        IDocumentSession session, Guid orderId, CancellationToken cancellation, Func<Order, ProcedureStepDecision> decide)
    {
        var stream = await session.Events.FetchForWriting<Order>(orderId, cancellation);
        if (stream.Aggregate is not { Status: not OrderStatus.Deleted } order)
        {
            return CommandResult<ProcedureStepDecision>.Reject(Rejection.NotFound($"No workitem for order {orderId}."));
        }

        var decision = decide(order);
        if (decision.Event is null)
        {
            return CommandResult<ProcedureStepDecision>.Ok(decision);
        }

        stream.AppendOne(decision.Event);
        var (endedAs, at) = decision.Event switch
        {
            OrderProcedureStepCompleted completed => (OrderStatus.Completed, completed.CompletedAt),
            OrderProcedureStepCanceled canceled => (OrderStatus.Failed, canceled.CanceledAt),
            _ => ((OrderStatus?)null, default(DateTimeOffset)),
        };
        if (endedAs is { } ended)
        {
            var registerId = StudyOrderRegister.StreamId(session.TenantId, order.StudyInstanceUid);
            var register = await session.Events.FetchForWriting<StudyOrderRegister>(registerId, cancellation);
            if (OrderDecisions.Release(register.Aggregate, order.Id, ended, at) is { } released)
            {
                register.AppendOne(released);
            }
        }

        return CommandResult<ProcedureStepDecision>.Ok(decision);
    }
}
