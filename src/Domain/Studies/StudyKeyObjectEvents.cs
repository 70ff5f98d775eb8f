using EventSourced.Domain.Common;

namespace EventSourced.Domain.Studies;

/// <summary>
/// A Key Object Selection Document referencing the study's visible instances was created on request and
/// stored in the study (its InstanceStored is appended with it). Carries who asked, through which channel
/// (<see cref="Actor.Via"/>) and the calling AE title they named.
/// </summary>
public sealed record KeyObjectSelectionCreated(
    Guid StudyStreamId,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string SopInstanceUid,
    string TitleCodeValue,
    int ReferencedInstances,
    string? CallingAeTitle,
    Actor CreatedBy,
    DateTimeOffset CreatedAt);
