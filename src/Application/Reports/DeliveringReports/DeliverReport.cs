using EventSourced.Application.Common;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Reports;
using Marten;

namespace EventSourced.Application.Reports.DeliveringReports;

/// <summary>Whom a report is for: an order (<c>POST /orders/{orderId}/reports</c>) or a study group (<c>POST /study-groups/{group}/reports</c>).</summary>
public sealed record ReportRecipient(Guid? OrderId, string? StudyGroup)
{
    public static ReportRecipient Order(Guid orderId) => new(orderId, null);

    public static ReportRecipient Group(string studyGroup) => new(null, studyGroup);
}

/// <summary>Deliver a report to its recipient; its content is already a durable blob.</summary>
public sealed record DeliverReport(ReportRecipient For, string ReportType, ReportContent Content, Actor By);

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
/// The recipient's stream is locked for the append (<c>FetchForExclusiveWriting</c>): a producer
/// delivering several reports for one order or group at once queues them; optimistic retries would have
/// them refuse each other.
/// </summary>
public static class DeliverReportHandler
{
    public static async Task<CommandResult<ReportDeliveryResponse>> Handle(
        DeliverReport command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var (reportId, now) = (Guid.CreateVersion7(), clock.GetUtcNow());
        if (command.For.OrderId is { } orderId)
        {
            var order = await session.Events.FetchForExclusiveWriting<Order>(orderId, cancellation);
            if (order.Aggregate is null)
            {
                return CommandResult<ReportDeliveryResponse>.Reject(Rejection.NotFound($"No order {orderId}."));
            }

            var (delivered, rejected) = order.Aggregate.DeliverReport(reportId, command.ReportType, command.Content, command.By, now);
            if (delivered is null)
            {
                return CommandResult<ReportDeliveryResponse>.Reject(rejected!);
            }

            order.AppendOne(delivered);
            return Delivered(delivered.ReportId, ReportRecipient.Order(delivered.OrderId), delivered.ReportType, delivered.Version, delivered.Amends, delivered.Content, delivered.DeliveredAt);
        }

        var name = command.For.StudyGroup!;
        var group = await session.Events.FetchForExclusiveWriting<StudyGroup>(StudyGroup.StreamId(session.TenantId, name), cancellation);
        if (group.Aggregate is null)
        {
            return CommandResult<ReportDeliveryResponse>.Reject(Rejection.NotFound($"No study group '{name}': add orders to it first."));
        }

        var toGroup = group.Aggregate.DeliverReport(reportId, command.ReportType, command.Content, command.By, now);
        group.AppendOne(toGroup);
        return Delivered(toGroup.ReportId, ReportRecipient.Group(toGroup.StudyGroup), toGroup.ReportType, toGroup.Version, toGroup.Amends, toGroup.Content, toGroup.DeliveredAt);
    }

    private static CommandResult<ReportDeliveryResponse> Delivered(
        Guid reportId, ReportRecipient recipient, string reportType, int version, Guid? amends, ReportContent content, DateTimeOffset deliveredAt) =>
        CommandResult<ReportDeliveryResponse>.Ok(new ReportDeliveryResponse(
            reportId, recipient.OrderId, recipient.StudyGroup, reportType, version, amends,
            content.MediaType, content.Blob.Length, content.Blob.Sha256, deliveredAt));
}
