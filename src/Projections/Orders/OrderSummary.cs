using System.Text.Json;
using EventSourced.Domain.Orders;
using Marten.Events.Aggregation;

namespace EventSourced.Projections.Orders;

/// <summary>
/// The order-status read model (document a, <c>GET /status</c>, <c>GET /orderId</c>): one document per
/// order, per tenant, projected inline so a client reads its own writes.
/// </summary>
public sealed record OrderSummary
{
    public Guid Id { get; init; }
    public required string StudyInstanceUid { get; init; }
    public required string AccessionNumber { get; init; }
    public required string PatientId { get; init; }
    public OrderStatus Status { get; init; }
    public required OrderDetails Details { get; init; }
    public IReadOnlyList<string> RequiredMetadata { get; init; } = [];
    public IReadOnlyList<string> MissingMetadata { get; init; } = [];
    public IReadOnlyDictionary<string, JsonElement> Metadata { get; init; } = new Dictionary<string, JsonElement>();
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset MetadataDueBy { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public OrderFailureReason? FailureReason { get; init; }
    public string? FailureDetail { get; init; }

    /// <summary>The facts <see cref="Status"/> is derived from (<see cref="OrderProgress.Derive"/>).</summary>
    public OrderProgress Progress { get; init; } = new();

    /// <summary>Per report type, the served (newest) delivery and whether it was acknowledged: drives report-available and completed.</summary>
    public IReadOnlyDictionary<string, ServedReport> Reports { get; init; } = new Dictionary<string, ServedReport>();

    /// <summary>The order as a UPS workitem: its SOP Instance UID, and its Procedure Step State.</summary>
    public string WorkitemUid { get; init; } = "";
    public ProcedureStepState ProcedureStepState { get; init; }

    /// <summary>Never shown (PS3.4 CC.2.1: the Transaction UID is the performer's secret); kept to derive the step state.</summary>
    public string? TransactionUid { get; init; }
    public bool CancellationRequested { get; init; }

    /// <summary>Scheduled Procedure Step Start DateTime as <c>YYYYMMDDHHMMSS</c> (padded), so ranges compare as text.</summary>
    public string ScheduledStartDateTime { get; init; } = "";

    /// <summary>SOP instances recorded on the order, and the metadata names their headers held.</summary>
    public int ImagesReceived { get; init; }
    public IReadOnlyList<string> MetadataInHeaders { get; init; } = [];
    public DateTimeOffset? ImagesArrivedAt { get; init; }
}

/// <summary>The served version of one report type on an order, as <see cref="OrderSummary.Reports"/> keeps it.</summary>
public sealed record ServedReport(Guid ReportId, int Version, bool Acknowledged);

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
