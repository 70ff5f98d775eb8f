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
/// Id: the blob's SHA-256.
/// </summary>
public sealed record ReferencedBlob
{
    public string Id { get; init; } = "";
}

/// <summary>Inline: the row is written in the same transaction as the event that names the blob (an upsert, no read).</summary>
public sealed partial class ReferencedBlobProjection : EventProjection
{
    /// <summary>Declares its document, so a rebuild (and the rebuild-equals-live check) knows the table it writes.</summary>
    public ReferencedBlobProjection()
    {
        RegisterPublishedType(typeof(ReferencedBlob));
    }

    public void Project(InstanceStored e, IDocumentOperations ops) => ops.Store(new ReferencedBlob { Id = e.Instance.Blob.Sha256 });

    public void Project(InstanceReplaced e, IDocumentOperations ops) => ops.Store(new ReferencedBlob { Id = e.Instance.Blob.Sha256 });

    public void Project(DeletedContentRestored e, IDocumentOperations ops)
    {
        foreach (var restored in e.Restored)
        {
            ops.Store(new ReferencedBlob { Id = restored.Instance.Blob.Sha256 });
        }
    }

    public void Project(DeletedContentPurged e, IDocumentOperations ops)
    {
        foreach (var sha in e.ReleasedBlobs)
        {
            ops.Delete<ReferencedBlob>(sha);
        }
    }
    public void Project(InstanceErased e, IDocumentOperations ops) => ops.Store(new ReferencedBlob { Id = e.Instance.Blob.Sha256 });

    // Every other event that names a blob, so the sweeper's scan of the events themselves is left for
    // true orphans instead of running for each report and result file at every sweep.
    public void Project(ReportDelivered e, IDocumentOperations ops) => ops.Store(new ReferencedBlob { Id = e.Content.Blob.Sha256 });

    public void Project(StudyGroupReportDelivered e, IDocumentOperations ops) => ops.Store(new ReferencedBlob { Id = e.Content.Blob.Sha256 });

    public void Project(SlideFileStored e, IDocumentOperations ops) => ops.Store(new ReferencedBlob { Id = e.File.Blob.Sha256 });

    public void Project(SeriesResultRecorded e, IDocumentOperations ops)
    {
        if (e.File is { } file)
        {
            ops.Store(new ReferencedBlob { Id = file.Sha256 });
        }
    }
}
