using EventSourced.Application.Reports.ReceivingReports;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.Reports;

/// <summary>Report types and media types as the delivery endpoints read them.</summary>
public static class ReportContentTypes
{
    public const int MaxReportTypeLength = 64;

    /// <summary>
    /// The report type names a kind of report (<c>pdf</c>, <c>summary</c>, <c>cad4tb</c>…): 1 to 64 letters,
    /// digits, '.', '_' or '-', matched without regard to case (stored lower-case).
    /// </summary>
    public static string? NormaliseReportType(string? value) =>
        value is { Length: > 0 and <= MaxReportTypeLength } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
            ? value.ToLowerInvariant()
            : null;

    public const string ReportTypeRule = "report_type must be 1 to 64 letters, digits, '.', '_' or '-'.";

    /// <summary>application/json (or text/json, +json), application/pdf, application/dicom; null for anything else.</summary>
    public static string? Normalise(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return null;
        }

        var type = media.MediaType.Value?.ToLowerInvariant();
        return type switch
        {
            "application/json" or "text/json" => ReportReceiver.Json,
            _ when media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase) => ReportReceiver.Json,
            "application/pdf" => ReportReceiver.Pdf,
            "application/dicom" => ReportReceiver.Dicom,
            _ => null,
        };
    }
}
