using EventSourced.Domain.Common;
using EventSourced.Domain.Reports;
using Marten.Events.Projections;

namespace EventSourced.Projections.Reports;

/// <summary>
/// The served (newest) version of one report type for one order or one study group, and whether the
/// ordering side has acknowledged it. One document per (order or group, report type); an amendment
/// overwrites it and makes it unacknowledged again. Serves document a's <c>/results</c> and
/// <c>/report</c> (the newest version) and the batch poll <c>GET /reports</c> (every document not yet
/// acknowledged, in <see cref="PollKey"/> order). Inline, so an acknowledgement or a delivery is
/// visible to the next request.
/// </summary>
public sealed record CurrentReport
{
    public Guid Id { get; init; }

    /// <summary>The served delivery's id: what the poll lists and an acknowledgement names.</summary>
    public Guid ReportId { get; init; }

    public Guid? OrderId { get; init; }
    public string? StudyInstanceUid { get; init; }
    public Guid? StudyGroupId { get; init; }
    public string? StudyGroup { get; init; }
    public string ReportType { get; init; } = "";
    /// <summary>1 for the first delivery of the type, n after n-1 amendments. Not named <c>Version</c>: Marten would take that for the document's revision.</summary>
    public int ReportVersion { get; init; }
    public ReportContent? Content { get; init; }
    public DateTimeOffset FirstDeliveredAt { get; init; }
    public DateTimeOffset DeliveredAt { get; init; }

    /// <summary>
    /// The poll's stable order and its paging cursor: the served delivery's time (19-digit UTC ticks) and id
    /// (a version 7 Guid, 32 hex digits), so an amendment moves to the end. Built from payload values
    /// only: the event sequence is not known to an inline projection under quick append, and a rebuild
    /// must reproduce the key.
    /// </summary>
    public string PollKey { get; init; } = "";

    public static string PollKeyOf(DateTimeOffset deliveredAt, Guid reportId) =>
        deliveredAt.UtcTicks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture) + reportId.ToString("N");

    public static bool IsPollKey(string value) =>
        value.Length == 51 && value[..19].All(char.IsAsciiDigit) && value[19..].All(char.IsAsciiHexDigitLower);

    public bool Acknowledged { get; init; }
    public DateTimeOffset? AcknowledgedAt { get; init; }

    private static readonly Guid Namespace = new("c3a1d7e2-6f4b-4e8a-b1c9-7d2e5f8a0b36");

    /// <summary>The document id of a report type of an order or group (both ids are already unique per tenant).</summary>
    public static Guid Key(Guid orderOrGroupId, string reportType) => DeterministicGuid.Create(Namespace, $"{orderOrGroupId:N}\n{reportType}");
}

/// <summary>Deterministic: every value from event payloads, so a rebuild reproduces the live documents.</summary>
public partial class CurrentReportProjection : MultiStreamProjection<CurrentReport, Guid>
{
    public CurrentReportProjection()
    {
        Identity<ReportDelivered>(e => CurrentReport.Key(e.OrderId, e.ReportType));
        Identities<ReportsAcknowledged>(e => [.. e.Reports.Select(r => CurrentReport.Key(e.OrderId, r.ReportType))]);
        Identity<StudyGroupReportDelivered>(e => CurrentReport.Key(e.StudyGroupId, e.ReportType));
        Identities<StudyGroupReportsAcknowledged>(e => [.. e.Reports.Select(r => CurrentReport.Key(e.StudyGroupId, r.ReportType))]);
        Identities<ReportContentErased>(e => [.. e.ReportTypes.Select(t => CurrentReport.Key(e.OrderId, t))]);
    }

    /// <summary>The patient was erased and the contents deleted: nothing is served or polled any more.</summary>
    public bool ShouldDelete(ReportContentErased erased) => true;

    public static CurrentReport Create(ReportDelivered e) => Delivered(new CurrentReport { FirstDeliveredAt = e.DeliveredAt }, e);

    public CurrentReport Apply(ReportDelivered e, CurrentReport current) => Delivered(current, e);

    public static CurrentReport Create(StudyGroupReportDelivered e) => Delivered(new CurrentReport { FirstDeliveredAt = e.DeliveredAt }, e);

    public CurrentReport Apply(StudyGroupReportDelivered e, CurrentReport current) => Delivered(current, e);

    public CurrentReport Apply(ReportsAcknowledged acknowledged, CurrentReport current) =>
        Acknowledge(current, acknowledged.Reports, acknowledged.AcknowledgedAt);

    public CurrentReport Apply(StudyGroupReportsAcknowledged acknowledged, CurrentReport current) =>
        Acknowledge(current, acknowledged.Reports, acknowledged.AcknowledgedAt);

    private static CurrentReport Delivered(CurrentReport current, ReportDelivered e) =>
        Delivery(current with { OrderId = e.OrderId, StudyInstanceUid = e.StudyInstanceUid }, CurrentReport.Key(e.OrderId, e.ReportType),
            e.ReportId, e.ReportType, e.Version, e.Content, e.DeliveredAt);

    private static CurrentReport Delivered(CurrentReport current, StudyGroupReportDelivered e) =>
        Delivery(current with { StudyGroupId = e.StudyGroupId, StudyGroup = e.StudyGroup }, CurrentReport.Key(e.StudyGroupId, e.ReportType),
            e.ReportId, e.ReportType, e.Version, e.Content, e.DeliveredAt);

    /// <summary>A delivery, to an order or a study group, replaces the served report and is not yet acknowledged.</summary>
    private static CurrentReport Delivery(
        CurrentReport current, Guid id, Guid reportId, string reportType, int version, ReportContent content, DateTimeOffset deliveredAt) => current with
    {
        Id = id,
        ReportId = reportId,
        ReportType = reportType,
        ReportVersion = version,
        Content = content,
        DeliveredAt = deliveredAt,
        PollKey = CurrentReport.PollKeyOf(deliveredAt, reportId),
        Acknowledged = false,
        AcknowledgedAt = null,
    };

    /// <summary>Only the served delivery is acknowledged: an acknowledgement of a version an amendment has replaced leaves the amendment unacknowledged.</summary>
    private static CurrentReport Acknowledge(CurrentReport current, IReadOnlyList<AcknowledgedReport> reports, DateTimeOffset at) =>
        reports.Any(r => r.ReportId == current.ReportId) && !current.Acknowledged
            ? current with { Acknowledged = true, AcknowledgedAt = at }
            : current;
}
