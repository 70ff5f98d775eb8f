using System.Collections.Immutable;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Studies;

// Whole-slide files (document e's digital pathology storage): the slide's own file, kept as a blob beside
// the DICOM instance that describes it (Modality SM, ReferencedFileID naming the file).

/// <summary>What the stored slide file is.</summary>
public enum SlideFileKind
{
    /// <summary>One file (.svs, .ndpi, .tiff, …), served as it was received.</summary>
    SingleFile,

    /// <summary>A zip holding a MIRAX index (.mrxs) and its data folder, served as a zip of those two.</summary>
    Mirax,
}

/// <param name="FileName">The slide's file name as received (for MIRAX: the name of the .mrxs index).</param>
/// <param name="Blob">The stored file (for MIRAX: the received zip).</param>
/// <param name="MiraxIndexEntry">MIRAX only: the path of the .mrxs inside the zip.</param>
/// <param name="MiraxIndexSha1">MIRAX only: SHA-1 of the .mrxs, the fingerprint document e's <c>fileHash</c> names.</param>
public sealed record SlideFile(string FileName, SlideFileKind Kind, BlobRef Blob, string? MiraxIndexEntry, string? MiraxIndexSha1);

/// <summary>A slide file was stored for the SM instance <paramref name="SopInstanceUid"/> of the study; the event names the blob, so the blob is kept.</summary>
public sealed record SlideFileStored(
    Guid StudyStreamId,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string SopInstanceUid,
    string ContainerIdentifier,
    SlideFile File,
    IngestChannel Channel,
    string? CallingAeTitle,
    Actor StoredBy,
    DateTimeOffset StoredAt);

public sealed partial record Study
{
    /// <summary>The slide file (its blob's SHA-256) stored for each SM instance that describes one.</summary>
    public ImmutableDictionary<string, string> SlideFiles { get; init; } = ImmutableDictionary<string, string>.Empty;

    public Study Apply(SlideFileStored stored) => this with { SlideFiles = SlideFiles.SetItem(stored.SopInstanceUid, stored.File.Blob.Sha256) };
}

public static class SlideDecisions
{
    /// <summary>
    /// Keep a slide file for an instance of the study: the same file again decides nothing (document e:
    /// "it already existed"); another file for a slide that has one is a conflict (a slide's scan does not
    /// change under its identifier; send it under another ContainerIdentifier or SOPInstanceUID).
    /// </summary>
    public static (SlideFileStored? Event, Rejection? Rejection) Store(
        Study study, string seriesInstanceUid, string sopInstanceUid, string containerIdentifier, SlideFile file,
        IngestChannel channel, string? callingAeTitle, Actor by, DateTimeOffset now)
    {
        if (study.SlideFiles.TryGetValue(sopInstanceUid, out var existing))
        {
            return existing == file.Blob.Sha256
                ? (null, null)
                : (null, Rejection.Conflict($"Slide {containerIdentifier} (SOP Instance {sopInstanceUid}) is already stored with another file."));
        }

        return (new SlideFileStored(study.Id, study.StudyInstanceUid, seriesInstanceUid, sopInstanceUid, containerIdentifier, file, channel, callingAeTitle, by, now), null);
    }
}
