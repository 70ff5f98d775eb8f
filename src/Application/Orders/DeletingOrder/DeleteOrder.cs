using EventSourced.Application.Common;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using Marten;

namespace EventSourced.Application.Orders.DeletingOrder;

/// <summary>Document e, <c>DELETE /o3-dpacs-wado/orders/delete?studyUid=</c>: deletes the study's current order.</summary>
public sealed record DeleteOrderForStudy(string StudyInstanceUid, Actor By);

public sealed record OrderDeletedResponse(Guid OrderId, string StudyInstanceUid);

public static class DeleteOrderForStudyHandler
{
    public static async Task<CommandResult<OrderDeletedResponse>> Handle(
        DeleteOrderForStudy command,
        IDocumentSession session,
        TimeProvider clock,
        CancellationToken cancellation)
    {
        var registerId = StudyOrderRegister.StreamId(session.TenantId, command.StudyInstanceUid);
        var register = await session.Events.FetchForWriting<StudyOrderRegister>(registerId, cancellation);
        if (register.Aggregate?.CurrentOrderId is not { } orderId)
        {
            return CommandResult<OrderDeletedResponse>.Reject(Rejection.NotFound($"No order with StudyInstanceUID {command.StudyInstanceUid}."));
        }

        var order = await session.Events.FetchForWriting<Order>(orderId, cancellation);
        var (deleted, rejected) = order.Aggregate!.Delete(command.By, clock.GetUtcNow());
        if (deleted is null)
        {
            return CommandResult<OrderDeletedResponse>.Reject(rejected!);
        }

        order.AppendOne(deleted);
        register.AppendOne(OrderDecisions.Release(register.Aggregate, orderId, OrderStatus.Deleted, deleted.DeletedAt)!);
        return CommandResult<OrderDeletedResponse>.Ok(new OrderDeletedResponse(orderId, command.StudyInstanceUid));
    }
}
