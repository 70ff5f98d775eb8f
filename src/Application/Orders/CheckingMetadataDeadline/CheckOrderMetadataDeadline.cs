using EventSourced.Domain.Orders;
using Marten;

namespace EventSourced.Application.Orders.CheckingMetadataDeadline;

/// <summary>Scheduled at creation for the order's metadata deadline; a no-op when the order no longer needs it.</summary>
public sealed record CheckOrderMetadataDeadline(Guid OrderId);

public static class CheckOrderMetadataDeadlineHandler
{
    public static async Task Handle(
        CheckOrderMetadataDeadline command,
        IDocumentSession session,
        TimeProvider clock,
        CancellationToken cancellation)
    {
        var stream = await session.Events.FetchForWriting<Order>(command.OrderId, cancellation);
        var failed = stream.Aggregate?.CheckMetadataDeadline(clock.GetUtcNow());
        if (failed is null)
        {
            return;
        }

        stream.AppendOne(failed);

        var registerId = StudyOrderRegister.StreamId(session.TenantId, stream.Aggregate!.StudyInstanceUid);
        var register = await session.Events.FetchForWriting<StudyOrderRegister>(registerId, cancellation);
        if (OrderDecisions.Release(register.Aggregate, failed.OrderId, OrderStatus.Failed, failed.FailedAt) is { } released)
        {
            register.AppendOne(released);
        }
    }
}
