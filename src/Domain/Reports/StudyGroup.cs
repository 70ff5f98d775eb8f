using System.Collections.Immutable;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Reports;

/// <summary>
/// A named group of orders (and so of their studies) that receives reports as a whole (document a,
/// <c>GET /report?study_group=</c>). One stream per tenant and group name, keyed by a name-based Guid,
/// so the stream is found from the name alone and equal names in two tenants never share it. The group
/// exists once an order has been added to it.
/// </summary>
public sealed record StudyGroup(Guid Id, string Name, ImmutableList<Guid> OrderIds, ReportShelf Reports)
{
    public const int MaxNameLength = 64;

    private static readonly Guid Namespace = new("8d7c2f4e-3b1a-4c6e-9f0d-2a5b7c9e1f34");

    public static Guid StreamId(string tenantId, string name) => DeterministicGuid.ForTenant(Namespace, tenantId, name);

    /// <summary>1 to 64 characters, no control characters, not blank: it travels in URLs and query strings.</summary>
    public static bool IsValidName(string? name) =>
        !string.IsNullOrWhiteSpace(name) && name.Length <= MaxNameLength && !name.Any(char.IsControl);

    public static StudyGroup Create(OrderAddedToStudyGroup added) =>
        new(added.StudyGroupId, added.StudyGroup, [added.OrderId], ReportShelf.Empty);

    public StudyGroup Apply(OrderAddedToStudyGroup added) => this with { OrderIds = OrderIds.Add(added.OrderId) };

    public StudyGroup Apply(StudyGroupReportDelivered delivered) =>
        this with { Reports = Reports.Deliver(delivered.ReportId, delivered.ReportType, delivered.Version) };

    public StudyGroup Apply(StudyGroupReportsAcknowledged acknowledged) =>
        this with { Reports = Reports.Acknowledge(acknowledged.Reports) };

    /// <summary>Adding an order already in the group decides nothing (idempotent).</summary>
    public static OrderAddedToStudyGroup? AddOrder(
        StudyGroup? group, Guid groupId, string name, Guid orderId, string studyInstanceUid, Actor by, DateTimeOffset now) =>
        group is not null && group.OrderIds.Contains(orderId)
            ? null
            : new OrderAddedToStudyGroup(groupId, name, orderId, studyInstanceUid, by, now);

    public StudyGroupReportDelivered DeliverReport(Guid reportId, string reportType, ReportContent content, Actor by, DateTimeOffset now)
    {
        var (version, amends) = Reports.Next(reportType);
        return new StudyGroupReportDelivered(Id, Name, reportId, reportType, version, amends, content, by, now);
    }

    public StudyGroupReportsAcknowledged? AcknowledgeReports(IEnumerable<Guid> reportIds, Actor by, DateTimeOffset now) =>
        Reports.Acknowledgeable(reportIds) is { Count: > 0 } reports ? new StudyGroupReportsAcknowledged(Id, Name, reports, by, now) : null;
}
