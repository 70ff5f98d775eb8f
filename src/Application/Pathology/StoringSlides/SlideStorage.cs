using EventSourced.Application.Ingestion;
using EventSourced.Application.Ingestion.StoringInstances;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Application.Pathology.StoringSlides;

public enum SlideStoreStatus
{
    /// <summary>A new slide (or new data for it within the replace window).</summary>
    Stored,

    /// <summary>The same slide again: nothing appended.</summary>
    AlreadyExisted,

    /// <summary>The request cannot describe a slide (a 400).</summary>
    Invalid,

    /// <summary>In conflict with what is stored (a 409); nothing kept.</summary>
    Conflict,
}

public sealed record SlideStoreOutcome(SlideStoreStatus Status, string? Detail, SlideIdentity? Identity);

/// <summary>
/// Document e's digital pathology storage, once the parts are read: the slide file is made durable, then
/// its SM instance (generated from the metadata, or the sender's sidecar) takes the one ingestion path
/// (<see cref="InstanceIngestor"/>: receive, then <see cref="StoreInstances"/>), which records the
/// instance and <see cref="SlideFileStored"/> in one transaction on the study's stream. A refusal after the
/// commit leaves an unreferenced blob for the orphan sweeper, as ingestion does.
/// </summary>
public sealed class SlideStorage(InstanceIngestor ingestor)
{
    public async Task<SlideStoreOutcome> StoreAsync(
        ReceivedSlideFile file, byte[] instance, SlideIdentity identity, string callingAeTitle, string tenantId, Actor by, CancellationToken cancellation)
    {
        // The sidecar names the slide it describes: a MIRAX index for a MIRAX archive, a single file otherwise.
        var namesMirax = identity.ReferencedFileId.EndsWith(".mrxs", StringComparison.OrdinalIgnoreCase);
        if (namesMirax != (file.Kind == SlideFileKind.Mirax))
        {
            return new(SlideStoreStatus.Invalid,
                $"The uploaded file does not contain the correct slide type: the instance references {identity.ReferencedFileId}, the file part is {(file.Kind == SlideFileKind.Mirax ? "a MIRAX archive" : "a single-file slide")}.",
                identity);
        }

        var slide = await file.CommitAsync(cancellation) with { FileName = identity.ReferencedFileId };
        var (received, failure) = await ingestor.ReceiveAsync(new MemoryStream(instance, writable: false), null, IngestChannel.PathologyUpload, callingAeTitle, cancellation);
        if (received is null)
        {
            return new(SlideStoreStatus.Invalid, failure!.Detail, identity);
        }

        if (received.SopInstanceUid != identity.SopInstanceUid || received.StudyInstanceUid != identity.StudyInstanceUid)
        {
            return new(SlideStoreStatus.Invalid, "The sidecar's identifiers could not be read consistently.", identity);
        }

        var outcome = (await ingestor.StoreAsync([received], tenantId, by, cancellation, slide: new StoredSlide(identity.SopInstanceUid, identity.ContainerIdentifier, slide)))[0];
        return outcome switch
        {
            { Failure: { } refused } => new(SlideStoreStatus.Conflict, refused.Detail, identity),
            { Stored: StoreOutcome.AlreadyStored } => new(SlideStoreStatus.AlreadyExisted, null, identity),
            _ => new(SlideStoreStatus.Stored, null, identity),
        };
    }
}
