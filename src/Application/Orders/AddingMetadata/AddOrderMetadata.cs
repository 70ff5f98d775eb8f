using System.Text.Json;
using EventSourced.Application.Common;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using Marten;

namespace EventSourced.Application.Orders.AddingMetadata;

/// <summary>Document b, <c>PATCH /add-metadata</c>: by order id, or by StudyInstanceUID (the study's current order).</summary>
public sealed record AddOrderMetadata(
    Guid? OrderId,
    string? StudyInstanceUid,
    IReadOnlyDictionary<string, JsonElement> Metadata,
    Actor By);

public sealed record OrderMetadataResponse(Guid OrderId, string StudyInstanceUid, IReadOnlyList<string> MissingMetadata);

public static class AddOrderMetadataHandler
{
    public static async Task<CommandResult<OrderMetadataResponse>> Handle(
        AddOrderMetadata command,
        IDocumentSession session,
        TimeProvider clock,
        CancellationToken cancellation)
    {
        var orderId = command.OrderId
            ?? await OrderLookup.CurrentOrderForStudy(session, command.StudyInstanceUid!, cancellation);
        if (orderId is null)
        {
            return CommandResult<OrderMetadataResponse>.Reject(Rejection.NotFound($"No order for StudyInstanceUID {command.StudyInstanceUid}."));
        }

        var stream = await session.Events.FetchForWriting<Order>(orderId.Value, cancellation);
        if (stream.Aggregate is null)
        {
            return CommandResult<OrderMetadataResponse>.Reject(Rejection.NotFound($"No order {orderId}."));
        }

        var (added, rejected) = stream.Aggregate.AddMetadata(command.Metadata, command.By, clock.GetUtcNow());
        if (added is null)
        {
            return CommandResult<OrderMetadataResponse>.Reject(rejected!);
        }

        stream.AppendOne(added);
        var order = stream.Aggregate.Apply(added);
        return CommandResult<OrderMetadataResponse>.Ok(new OrderMetadataResponse(order.Id, order.StudyInstanceUid, order.MissingMetadata));
    }
}
