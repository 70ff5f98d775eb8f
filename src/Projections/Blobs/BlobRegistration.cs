using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.Blobs;

public static class BlobRegistration
{
    public static StoreOptions AddBlobProjections(this StoreOptions options)
    {
        // Every blob an event names, for the orphan sweeper (docs/architecture.md, "Orphan blobs").
        options.Projections.Add<ReferencedBlobProjection>(ProjectionLifecycle.Inline);
        // No version or timestamp columns: the row's presence is all it says.
        options.Schema.For<ReferencedBlob>().MultiTenanted().Metadata(m => m.DisableInformationalFields());
        return options;
    }
}
