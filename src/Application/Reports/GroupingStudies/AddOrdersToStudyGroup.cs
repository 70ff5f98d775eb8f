using EventSourced.Application.Common;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Reports;
using Marten;

namespace EventSourced.Application.Reports.GroupingStudies;

/// <summary>Adds orders to a study group, creating the group with its first order (<c>POST /study-groups/{group}/orders</c>).</summary>
public sealed record AddOrdersToStudyGroup(string StudyGroup, IReadOnlyList<Guid> OrderIds, Actor By);

public sealed record StudyGroupResponse(string StudyGroup, IReadOnlyList<Guid> OrderIds);

public static class AddOrdersToStudyGroupHandler
{
    public static async Task<CommandResult<StudyGroupResponse>> Handle(
        AddOrdersToStudyGroup command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var groupId = StudyGroup.StreamId(session.TenantId, command.StudyGroup);
        var stream = await session.Events.FetchForWriting<StudyGroup>(groupId, cancellation);
        var group = stream.Aggregate;
        var now = clock.GetUtcNow();
        foreach (var orderId in command.OrderIds.Distinct())
        {
            var order = await session.Events.AggregateStreamAsync<Order>(orderId, token: cancellation);
            if (order is null)
            {
                return CommandResult<StudyGroupResponse>.Reject(Rejection.NotFound($"No order {orderId}."));
            }

            if (order.Status == OrderStatus.Deleted)
            {
                return CommandResult<StudyGroupResponse>.Reject(Rejection.Conflict($"Order {orderId} is deleted."));
            }

            if (StudyGroup.AddOrder(group, groupId, command.StudyGroup, orderId, order.StudyInstanceUid, command.By, now) is { } added)
            {
                stream.AppendOne(added);
                group = group is null ? StudyGroup.Create(added) : group.Apply(added);
            }
        }

        return CommandResult<StudyGroupResponse>.Ok(new StudyGroupResponse(command.StudyGroup, group!.OrderIds));
    }
}
