namespace EventSourced.Application.Archive;

/// <summary>
/// How document d presents DICOM values. The document's only example shows a birth date as
/// <c>"1900-01-01"</c>: dates are ISO 8601 (<c>YYYY-MM-DD</c>), times likewise (<c>HH:MM:SS</c>, with
/// <c>.ffffff</c> only when the stored time has a non-zero fraction), as a Python client's
/// <c>date.isoformat()</c>/<c>time.isoformat()</c> would print them. A value that is absent or not a
/// valid DA/TM is <c>null</c> (docs/api-compatibility.md, "Document d").
/// </summary>
public static class ArchiveValues
{
    /// <summary>DA normalised as YYYYMMDD → YYYY-MM-DD; null when absent or not a calendar date.</summary>
    public static string? Date(string? yyyymmdd) =>
        yyyymmdd is { Length: 8 }
        && DateOnly.TryParseExact(yyyymmdd, "yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var date)
            ? date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)
            : null;

    /// <summary>TM normalised as HHMMSS.FFFFFF → HH:MM:SS[.ffffff]; null when absent or out of range.</summary>
    public static string? Time(string? normalized)
    {
        if (normalized is not { Length: 13 } || normalized[6] != '.'
            || !int.TryParse(normalized.AsSpan(0, 2), out var h) || !int.TryParse(normalized.AsSpan(2, 2), out var m)
            || !int.TryParse(normalized.AsSpan(4, 2), out var s) || h > 23 || m > 59 || s > 60)
        {
            return null;
        }

        var fraction = normalized[7..];
        return $"{normalized[..2]}:{normalized[2..4]}:{normalized[4..6]}" + (fraction.Trim('0').Length == 0 ? "" : "." + fraction);
    }
}

/// <summary>
/// Document d's series <c>status</c> and <c>status_message</c> ("the status of the series in the
/// database"): ours says how far the archive got with it. <see cref="Stored"/>: its instances are stored
/// and retrievable (<c>dicom/get</c>); <see cref="Processed"/>: an algorithm result was recorded for it.
/// </summary>
public static class ArchiveSeriesStatus
{
    public const string Stored = "stored";
    public const string Processed = "processed";

    public static (string Status, string Message) Of(int instances, int results) => results > 0
        ? (Processed, $"{Instances(instances)} stored; {results} algorithm result{(results == 1 ? "" : "s")} available.")
        : (Stored, $"{Instances(instances)} stored.");

    private static string Instances(int n) => n == 1 ? "1 instance" : $"{n} instances";
}
