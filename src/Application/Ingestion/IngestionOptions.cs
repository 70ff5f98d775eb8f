namespace EventSourced.Application.Ingestion;

/// <summary>Configuration section <c>Ingestion</c>.</summary>
public sealed class IngestionOptions
{
    public const string Section = "Ingestion";

    /// <summary>Different bytes for a stored SOP Instance UID within this time of its previous store replace it; later they are a conflict (document b: 5 minutes).</summary>
    public TimeSpan ReplaceWindow { get; set; } = TimeSpan.FromMinutes(5);
}
