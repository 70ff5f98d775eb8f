using EventSourced.Domain.Orders;
using Marten.Events.Aggregation;

namespace EventSourced.Projections.Orders;

/// <summary>
/// Deterministic: every time comes from an event payload, so a rebuild reproduces the live documents.
/// The status is never set directly: each event sets a fact of <see cref="OrderSummary.Progress"/> and
/// the status is derived from the facts (<see cref="Derived"/>), the same function the aggregate uses.
/// </summary>
public partial class OrderSummaryProjection : SingleStreamProjection<OrderSummary, Guid>
{
    public static OrderSummary Create(OrderCreated created)
    {
        var order = Order.Create(created);
        return Derived(new OrderSummary
        {
            Id = created.OrderId,
            StudyInstanceUid = created.Details.StudyInstanceUid,
            AccessionNumber = created.Details.AccessionNumber,
            PatientId = created.Details.PatientId,
            Details = created.Details,
            RequiredMetadata = created.RequiredMetadata,
            MissingMetadata = order.MissingMetadata,
            CreatedAt = created.CreatedAt,
            MetadataDueBy = created.MetadataDueBy,
            UpdatedAt = created.CreatedAt,
            WorkitemUid = order.WorkitemUid,
            ScheduledStartDateTime = StartDateTime(created.Details),
        });
    }

    public OrderSummary Apply(OrderMetadataAdded added, OrderSummary summary)
    {
        var metadata = new Dictionary<string, System.Text.Json.JsonElement>(summary.Metadata, Order.MetadataNameComparer);
        foreach (var (name, value) in added.Metadata)
        {
            metadata[name] = value;
        }

        var present = Order.PresentNames(added).ToHashSet(Order.MetadataNameComparer);
        return Derived(summary with
        {
            Metadata = metadata,
            MissingMetadata = [.. summary.MissingMetadata.Where(name => !present.Contains(name))],
            UpdatedAt = added.AddedAt,
        });
    }

    public OrderSummary Apply(OrderImagesArrived arrived, OrderSummary summary)
    {
        var present = arrived.MetadataInHeaders.ToHashSet(Order.MetadataNameComparer);
        return Derived(summary with
        {
            Progress = summary.Progress with { HasImages = true },
            ImagesReceived = summary.ImagesReceived + arrived.SopInstanceUids.Count,
            MetadataInHeaders = [.. summary.MetadataInHeaders.Union(arrived.MetadataInHeaders, Order.MetadataNameComparer).Order(StringComparer.Ordinal)],
            MissingMetadata = [.. summary.MissingMetadata.Where(name => !present.Contains(name))],
            ImagesArrivedAt = summary.ImagesArrivedAt ?? arrived.ArrivedAt,
            UpdatedAt = arrived.ArrivedAt,
        });
    }

    public OrderSummary Apply(OrderFailed failed, OrderSummary summary) => Derived(summary with
    {
        Progress = summary.Progress with { Failed = true },
        FailureReason = failed.Reason,
        FailureDetail = failed.Detail,
        UpdatedAt = failed.FailedAt,
    });

    public OrderSummary Apply(OrderDeleted deleted, OrderSummary summary) => Derived(summary with
    {
        Progress = summary.Progress with { Deleted = true },
        UpdatedAt = deleted.DeletedAt,
    });

    public OrderSummary Apply(OrderProcedureStepStarted started, OrderSummary summary) => Derived(summary with
    {
        TransactionUid = started.TransactionUid,
        UpdatedAt = started.StartedAt,
    });

    public OrderSummary Apply(OrderProcedureStepCompleted completed, OrderSummary summary) => Derived(summary with
    {
        Progress = summary.Progress with { Completed = true },
        UpdatedAt = completed.CompletedAt,
    });

    public OrderSummary Apply(OrderProcedureStepCanceled canceled, OrderSummary summary) => Derived(summary with
    {
        Progress = summary.Progress with { Failed = true },
        FailureReason = OrderFailureReason.ProcedureStepCanceled,
        FailureDetail = canceled.Reason,
        UpdatedAt = canceled.CanceledAt,
    });

    public OrderSummary Apply(OrderCancellationRequested requested, OrderSummary summary) => summary with
    {
        CancellationRequested = true,
        UpdatedAt = requested.RequestedAt,
    };

    public OrderSummary Apply(Domain.Reports.ReportDelivered delivered, OrderSummary summary) => Derived(summary with
    {
        Reports = new Dictionary<string, ServedReport>(summary.Reports)
        {
            [delivered.ReportType] = new ServedReport(delivered.ReportId, delivered.Version, false),
        },
        UpdatedAt = delivered.DeliveredAt,
    });

    public OrderSummary Apply(Domain.Reports.ReportsAcknowledged acknowledged, OrderSummary summary)
    {
        var reports = new Dictionary<string, ServedReport>(summary.Reports);
        foreach (var report in acknowledged.Reports)
        {
            if (reports.TryGetValue(report.ReportType, out var served) && served.ReportId == report.ReportId)
            {
                reports[report.ReportType] = served with { Acknowledged = true };
            }
        }

        return Derived(summary with { Reports = reports, UpdatedAt = acknowledged.AcknowledgedAt });
    }

    /// <summary>Status and UPS state from the facts, as <see cref="Order.Status"/> and <see cref="Order.ProcedureStepState"/> derive them.</summary>
    public static OrderSummary Derived(OrderSummary summary)
    {
        var status = (summary.Progress with
        {
            MetadataComplete = summary.MissingMetadata.Count == 0,
            HasReport = summary.Progress.HasReport || summary.Reports.Count > 0,
            Completed = summary.Progress.Completed || (summary.Reports.Count > 0 && summary.Reports.Values.All(r => r.Acknowledged)),
        }).Status;
        return summary with
        {
            Status = status,
            ProcedureStepState = status switch
            {
                OrderStatus.Completed => ProcedureStepState.Completed,
                OrderStatus.Failed or OrderStatus.Deleted => ProcedureStepState.Canceled,
                _ => summary.TransactionUid is null ? ProcedureStepState.Scheduled : ProcedureStepState.InProgress,
            },
        };
    }

    private static string StartDateTime(OrderDetails details)
    {
        var time = new string(details.ScheduledProcedureStepStartTime.Where(char.IsAsciiDigit).Take(6).ToArray());
        return details.ScheduledProcedureStepStartDate + time.PadRight(6, '0');
    }
}
