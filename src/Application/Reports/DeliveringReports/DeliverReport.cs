using EventSourced.Application.Common;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Reports;
using Marten;

namespace EventSourced.Application.Reports.DeliveringReports;

/// <summary>A report for an order (<c>POST /orders/{orderId}/reports</c>); its content is already a durable blob.</summary>
public sealed record DeliverOrderReport(Guid OrderId, string ReportType, ReportContent Content, Actor By);

/// <summary>A report for a study group (<c>POST /study-groups/{group}/reports</c>).</summary>
public sealed record DeliverStudyGroupReport(string StudyGroup, string ReportType, ReportContent Content, Actor By);

public sealed record ReportDeliveryResponse(
    Guid ReportId,
    Guid? OrderId,
    string? StudyGroup,
    string ReportType,
    int Version,
    Guid? Amends,
    string MediaType,
    long Size,
    string Sha256,
    DateTimeOffset DeliveredAt);

/// <summary>
/// The stream is locked for the append (<c>FetchForExclusiveWriting</c>): a producer delivering several
/// reports for one order at once queues them; optimistic retries would have them refuse each other.
/// </summary>
public static class DeliverOrderReportHandler
{
    public static async Task<CommandResult<ReportDeliveryResponse>> Handle(
        DeliverOrderReport command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var stream = await session.Events.FetchForExclusiveWriting<Order>(command.OrderId, cancellation);
        if (stream.Aggregate is null)
        {
            return CommandResult<ReportDeliveryResponse>.Reject(Rejection.NotFound($"No order {command.OrderId}."));
        }

        var (delivered, rejected) = stream.Aggregate.DeliverReport(
            Guid.CreateVersion7(), command.ReportType, command.Content, command.By, clock.GetUtcNow());
        if (delivered is null)
        {
            return CommandResult<ReportDeliveryResponse>.Reject(rejected!);
        }

        stream.AppendOne(delivered);
        return CommandResult<ReportDeliveryResponse>.Ok(new ReportDeliveryResponse(
            delivered.ReportId, delivered.OrderId, null, delivered.ReportType, delivered.Version, delivered.Amends,
            delivered.Content.MediaType, delivered.Content.Blob.Length, delivered.Content.Blob.Sha256, delivered.DeliveredAt));
    }
}

public static class DeliverStudyGroupReportHandler
{
    public static async Task<CommandResult<ReportDeliveryResponse>> Handle(
        DeliverStudyGroupReport command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var stream = await session.Events.FetchForExclusiveWriting<StudyGroup>(StudyGroup.StreamId(session.TenantId, command.StudyGroup), cancellation);
        if (stream.Aggregate is null)
        {
            return CommandResult<ReportDeliveryResponse>.Reject(Rejection.NotFound($"No study group '{command.StudyGroup}': add orders to it first."));
        }

        var delivered = stream.Aggregate.DeliverReport(Guid.CreateVersion7(), command.ReportType, command.Content, command.By, clock.GetUtcNow());
        stream.AppendOne(delivered);
        return CommandResult<ReportDeliveryResponse>.Ok(new ReportDeliveryResponse(
            delivered.ReportId, null, delivered.StudyGroup, delivered.ReportType, delivered.Version, delivered.Amends,
            delivered.Content.MediaType, delivered.Content.Blob.Length, delivered.Content.Blob.Sha256, delivered.DeliveredAt));
    }
}
