using EventSourced.Domain.Archive;
using EventSourced.Domain.Reports;
using EventSourced.Domain.Studies;
using Marten;
using Marten.Events.Projections;

namespace EventSourced.Projections.Blobs;

/// <summary>
/// A blob some event of this tenant names: the orphan sweeper's fast filter. History, not current state:
/// a replaced instance's old blob stays referenced (its <see cref="InstanceStored"/> event is still
/// replayable). The one removal: a purge (<see cref="DeletedContentPurged"/>) releases the blobs of
/// deleted content, and the sweeper then asks the events whether any live one still needs them.
/// Id: the first 128 bits of the blob's SHA-256 (<see cref="IdOf"/>), in the id column only (the document is
/// empty): a row of about 60 bytes instead of 200. Two blobs sharing those bits would share a row: the sweeper
/// would keep an orphan, or, after a purge of one, ask the events about the other; never remove a needed blob.
/// </summary>
public sealed record ReferencedBlob
{
    [System.Text.Json.Serialization.JsonIgnore]
    public Guid Id { get; init; }

    /// <summary>The row's id for a blob: its SHA-256's first 32 hex digits, read as a UUID.</summary>
    public static Guid IdOf(string sha256) => Guid.ParseExact(sha256.AsSpan(0, 32), "N");

    public static ReferencedBlob For(string sha256) => new() { Id = IdOf(sha256) };
}

/// <summary>Inline: the row is written in the same transaction as the event that names the blob (an upsert, no read).</summary>
public sealed partial class ReferencedBlobProjection : EventProjection
{
    /// <summary>Declares its document, so a rebuild (and the rebuild-equals-live check) knows the table it writes.</summary>
    public ReferencedBlobProjection()
    {
        RegisterPublishedType(typeof(ReferencedBlob));
    }

    public void Project(InstanceStored e, IDocumentOperations ops) => ops.Store(ReferencedBlob.For(e.Instance.Blob.Sha256));

    public void Project(InstanceReplaced e, IDocumentOperations ops) => ops.Store(ReferencedBlob.For(e.Instance.Blob.Sha256));

    public void Project(DeletedContentRestored e, IDocumentOperations ops)
    {
        foreach (var restored in e.Restored)
        {
            ops.Store(ReferencedBlob.For(restored.Instance.Blob.Sha256));
        }
    }

    public void Project(DeletedContentPurged e, IDocumentOperations ops)
    {
        foreach (var sha in e.ReleasedBlobs)
        {
            ops.Delete<ReferencedBlob>(ReferencedBlob.IdOf(sha));
        }
    }
    public void Project(InstanceErased e, IDocumentOperations ops) => ops.Store(ReferencedBlob.For(e.Instance.Blob.Sha256));

    // Every other event that names a blob, so the sweeper's scan of the events themselves is left for
    // true orphans instead of running for each report and result file at every sweep.
    public void Project(ReportDelivered e, IDocumentOperations ops) => ops.Store(ReferencedBlob.For(e.Content.Blob.Sha256));

    public void Project(StudyGroupReportDelivered e, IDocumentOperations ops) => ops.Store(ReferencedBlob.For(e.Content.Blob.Sha256));

    public void Project(SlideFileStored e, IDocumentOperations ops) => ops.Store(ReferencedBlob.For(e.File.Blob.Sha256));

    public void Project(SeriesResultRecorded e, IDocumentOperations ops)
    {
        if (e.File is { } file)
        {
            ops.Store(ReferencedBlob.For(file.Sha256));
        }
    }
}
