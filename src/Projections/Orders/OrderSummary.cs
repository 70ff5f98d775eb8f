using System.Text.Json;
using EventSourced.Domain.Orders;

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
