namespace EventSourced.Application.Orders;

/// <summary>Configuration section <c>Orders</c>.</summary>
public sealed class OrderOptions
{
    public const string Section = "Orders";

    /// <summary>How long after creation an order may lack its required metadata before it fails (document b: 15 minutes).</summary>
    public TimeSpan MetadataDeadline { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The metadata an order needs before it can be processed, by name (the order API's field names or
    /// keys sent to <c>PATCH /add-metadata</c>, matched without regard to case). Fixed on each order at
    /// creation. The default asks for what an AI reader needs beyond the order's mandatory fields:
    /// the patient's birth date and sex (age- and sex-dependent models). Empty: orders never fail.
    /// </summary>
    /// <remarks>A comma-separated string, not a list: configuration binding appends to a list's defaults
    /// instead of replacing them, and an environment variable can say "none" only as an empty string.</remarks>
    public string RequiredMetadata { get; set; } = "PatientBirthDate,PatientSex";

    public IReadOnlyList<string> RequiredMetadataNames =>
        [.. RequiredMetadata.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.OrdinalIgnoreCase)];
}
