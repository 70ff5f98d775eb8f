namespace EventSourced.Application.Reports;

/// <summary>Configuration section <c>Reports</c>.</summary>
public sealed class ReportOptions
{
    public const string Section = "Reports";

    /// <summary>The largest report content accepted (bytes); a larger upload is a 413 and leaves nothing behind.</summary>
    public long MaxReportBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The batch poll's page size when the client gives none, and the largest it may ask for.</summary>
    public int DefaultPageSize { get; set; } = 100;

    public int MaxPageSize { get; set; } = 1000;
}
