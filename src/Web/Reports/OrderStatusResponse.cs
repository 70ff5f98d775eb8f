using System.Text.Json.Serialization;
using EventSourced.Domain.Orders;
using EventSourced.Projections.Orders;

namespace EventSourced.Web.Reports;

/// <summary>
/// Document a leaves the status body unspecified; its query parameters are snake_case, so the body is
/// too (docs/api-compatibility.md). <c>status</c> is one of the lower-case state names.
/// </summary>
public sealed record OrderStatusResponse(
    [property: JsonPropertyName("order_id")] Guid OrderId,
    [property: JsonPropertyName("study_uid")] string StudyUid,
    [property: JsonPropertyName("accession_number")] string AccessionNumber,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("metadata_due_by")] DateTimeOffset MetadataDueBy,
    [property: JsonPropertyName("missing_metadata")] IReadOnlyList<string> MissingMetadata,
    [property: JsonPropertyName("failure_reason")] string? FailureReason,
    [property: JsonPropertyName("failure_detail")] string? FailureDetail)
{
    public static OrderStatusResponse From(OrderSummary summary) => new(
        summary.Id,
        summary.StudyInstanceUid,
        summary.AccessionNumber,
        Name(summary.Status),
        summary.CreatedAt,
        summary.UpdatedAt,
        summary.MetadataDueBy,
        summary.MissingMetadata,
        summary.FailureReason is { } reason ? SnakeCase(reason.ToString()) : null,
        summary.FailureDetail);

    public static string Name(OrderStatus status) => SnakeCase(status.ToString());

    private static string SnakeCase(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

public sealed record OrderIdsResponse(
    [property: JsonPropertyName("study_uid")] string StudyUid,
    [property: JsonPropertyName("order_ids")] IReadOnlyList<Guid> OrderIds);
