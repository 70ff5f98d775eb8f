using System.Collections.Immutable;

namespace EventSourced.Domain.Reports;

/// <summary>The served (newest) version of one report type, and whether the ordering side acknowledged it.</summary>
public sealed record ReportVersion(Guid ReportId, string ReportType, int Version, bool Acknowledged);

/// <summary>
/// The reports of one order or study group: per report type, the newest delivery. The rules shared by
/// both streams: a delivery of a type already present amends it (and is unacknowledged again); an
/// acknowledgement counts only for a delivery that is still the served one and not yet acknowledged, so
/// acknowledging an id twice, or an id an amendment has since replaced, decides nothing.
/// </summary>
public sealed record ReportShelf(ImmutableDictionary<string, ReportVersion> ByType, ImmutableHashSet<Guid> AllReportIds)
{
    public static ReportShelf Empty { get; } = new(ImmutableDictionary<string, ReportVersion>.Empty.WithComparers(StringComparer.Ordinal), []);

    public bool HasReport => !ByType.IsEmpty;

    public bool AllAcknowledged => ByType.Values.All(v => v.Acknowledged);

    public ReportShelf Deliver(Guid reportId, string reportType, int version) => this with
    {
        ByType = ByType.SetItem(reportType, new ReportVersion(reportId, reportType, version, false)),
        AllReportIds = AllReportIds.Add(reportId),
    };

    public ReportShelf Acknowledge(IEnumerable<AcknowledgedReport> reports)
    {
        var byType = ByType;
        foreach (var report in reports)
        {
            if (byType.TryGetValue(report.ReportType, out var current) && current.ReportId == report.ReportId)
            {
                byType = byType.SetItem(report.ReportType, current with { Acknowledged = true });
            }
        }

        return this with { ByType = byType };
    }

    /// <summary>The next version of <paramref name="reportType"/>: its number and the delivery it amends.</summary>
    public (int Version, Guid? Amends) Next(string reportType) =>
        ByType.TryGetValue(reportType, out var current) ? (current.Version + 1, current.ReportId) : (1, null);

    /// <summary>Of <paramref name="reportIds"/>, those that are served and not yet acknowledged here.</summary>
    public IReadOnlyList<AcknowledgedReport> Acknowledgeable(IEnumerable<Guid> reportIds)
    {
        var wanted = reportIds.ToHashSet();
        return [.. ByType.Values
            .Where(v => !v.Acknowledged && wanted.Contains(v.ReportId))
            .OrderBy(v => v.ReportType, StringComparer.Ordinal)
            .Select(v => new AcknowledgedReport(v.ReportId, v.ReportType))];
    }
}
