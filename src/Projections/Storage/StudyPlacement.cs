using EventSourced.Domain.Studies;
using Marten;
using Marten.Events.Projections;

namespace EventSourced.Projections.Storage;

/// <summary>
/// Where a relocated study's blobs live (no row: the local medium). Id: the study's stream id, unique
/// across tenants, so the blob layer (which writes before it knows a tenant) and the relocation's
/// shared-bytes check can read it without one. Single-tenanted for that reason.
/// </summary>
public sealed record StudyPlacement
{
    public Guid Id { get; init; }

    public string StudyInstanceUid { get; init; } = "";

    public StorageLocation Location { get; init; } = new(StorageKind.PhysicalMedium, "");
}

/// <summary>Inline: a relocation's switch and its placement row are one transaction.</summary>
public sealed partial class StudyPlacementProjection : EventProjection
{
    public void Project(StudyRelocated e, IDocumentOperations ops) =>
        ops.Store(new StudyPlacement { Id = e.StudyStreamId, StudyInstanceUid = e.StudyInstanceUid, Location = e.To });
}
