namespace EventSourced.Application.Archive.DeletingContent;

/// <summary>Configuration section <c>Deletion</c>.</summary>
public sealed class DeletionOptions
{
    public const string Section = "Deletion";

    /// <summary>
    /// How long deleted content can be restored by our own route. When it has passed, the purge releases
    /// the content's blobs and the blob sweeper removes those no live event needs. Zero: purged at once,
    /// no restore.
    /// </summary>
    public TimeSpan RestoreWindow { get; set; } = TimeSpan.FromDays(30);
}
