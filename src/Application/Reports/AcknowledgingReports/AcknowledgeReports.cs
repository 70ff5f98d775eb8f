using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Reports;
using Marten;

namespace EventSourced.Application.Reports.AcknowledgingReports;

/// <summary>Where an acknowledged report id lives: its order, or its study group (the caller looked it up in the read model).</summary>
public sealed record ReportLocation(Guid ReportId, Guid? OrderId, Guid? StudyGroupId);

/// <summary>
/// Document a, <c>POST /reports</c>: acknowledges exactly the listed deliveries. Each stream decides for
/// itself (ReportShelf): only a served, unacknowledged version is acknowledged, so a stale lookup, a
/// repeated acknowledgement or a version replaced by a later amendment decides nothing.
/// </summary>
public sealed record AcknowledgeReports(IReadOnlyList<ReportLocation> Reports, Actor By);

public sealed record ReportsAcknowledgedResponse(IReadOnlyList<Guid> Acknowledged);

/// <summary>Locks each order, then each group, in id order: two acknowledgements over the same streams cannot deadlock.</summary>
public static class AcknowledgeReportsHandler
{
    public static async Task<ReportsAcknowledgedResponse> Handle(
        AcknowledgeReports command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var acknowledged = new List<Guid>();

        foreach (var order in command.Reports.Where(r => r.OrderId is not null).GroupBy(r => r.OrderId!.Value).OrderBy(g => g.Key))
        {
            var stream = await session.Events.FetchForExclusiveWriting<Order>(order.Key, cancellation);
            if (stream.Aggregate is { } current && current.AcknowledgeReports(order.Select(r => r.ReportId), command.By, now) is { } done)
            {
                stream.AppendOne(done);
                acknowledged.AddRange(done.Reports.Select(r => r.ReportId));

                // Acknowledging every served report completes the order: like any ending, it frees the study
                // for a new order (the register is released in the same transaction).
                if (current.Status != OrderStatus.Completed && current.Apply(done).Status == OrderStatus.Completed)
                {
                    var registerId = StudyOrderRegister.StreamId(session.TenantId, current.StudyInstanceUid);
                    var register = await session.Events.FetchForWriting<StudyOrderRegister>(registerId, cancellation);
                    if (OrderDecisions.Release(register.Aggregate, current.Id, OrderStatus.Completed, now) is { } released)
                    {
                        register.AppendOne(released);
                    }
                }
            }
        }

        foreach (var group in command.Reports.Where(r => r.StudyGroupId is not null).GroupBy(r => r.StudyGroupId!.Value).OrderBy(g => g.Key))
        {
            var stream = await session.Events.FetchForExclusiveWriting<StudyGroup>(group.Key, cancellation);
            if (stream.Aggregate?.AcknowledgeReports(group.Select(r => r.ReportId), command.By, now) is { } done)
            {
                stream.AppendOne(done);
                acknowledged.AddRange(done.Reports.Select(r => r.ReportId));
            }
        }

        return new ReportsAcknowledgedResponse(acknowledged);
    }
}
