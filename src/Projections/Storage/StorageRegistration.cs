using EventSourced.Domain.Studies;
using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.Storage;

/// <summary>Study relocations: the event and the placement rows the blob layer reads (docs/architecture.md, "Storage locations").</summary>
public static class StorageRegistration
{
    public static StoreOptions AddStorageProjections(this StoreOptions options)
    {
        options.Events.AddEventType<StudyRelocated>();
        options.Projections.Add<StudyPlacementProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<StudyPlacement>().SingleTenanted().Index(x => x.StudyInstanceUid);
        return options;
    }
}
