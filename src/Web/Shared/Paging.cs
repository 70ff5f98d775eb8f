using System.Globalization;

namespace EventSourced.Web.Shared;

/// <summary>
/// The <c>limit</c> and <c>offset</c> query parameters of the DICOMweb searches (QIDO-RS, UPS-RS;
/// PS3.18 §8.3.4.4): limit 1 or more, lowered to <see cref="MaxLimit"/>, 100 when absent; offset 0 or more.
/// </summary>
public readonly record struct Paging(int Limit, int Offset, bool LimitLowered)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 200;

    public static Paging Default { get; } = new(DefaultLimit, 0, false);

    /// <summary>This paging with the limit read from <paramref name="value"/>; null and an error when it is not a positive integer.</summary>
    public (Paging? Paging, string? Error) WithLimit(string? value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit >= 1
            ? (this with { Limit = Math.Min(limit, MaxLimit), LimitLowered = limit > MaxLimit }, null)
            : (null, $"limit must be a positive integer, not '{value}'.");

    /// <summary>This paging with the offset read from <paramref name="value"/>; null and an error when it is not a non-negative integer.</summary>
    public (Paging? Paging, string? Error) WithOffset(string? value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            ? (this with { Offset = offset }, null)
            : (null, $"offset must be a non-negative integer, not '{value}'.");
}
