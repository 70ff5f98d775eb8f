using EventSourced.Domain.Orders;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;

namespace EventSourced.Projections.StudyFeed;

/// <summary>
/// The study feed, projected ASYNCHRONOUSLY on purpose: the daemon only hands it events below its
/// high-water mark, the point below which every transaction has committed or is known to have rolled
/// back. A naive "events after sequence N" read would lose an event whose transaction took its sequence
/// number early and committed late; here such an event is projected before anything after it, so the
/// feed only ever grows at its end (docs/architecture.md, "The study feed").
/// </summary>
public sealed partial class StudyFeedProjection : EventProjection
{
    public const string ProjectionName = "StudyFeed";

    public StudyFeedProjection()
    {
        Name = ProjectionName;
    }

    public override async ValueTask ApplyAsync(IDocumentOperations operations, IEvent e, CancellationToken cancellation)
    {
        string? studyOfOrder = null;
        if (StudyFeedMapping.OrderWhoseStudyIsNeeded(e.Data) is { } orderId)
        {
            // The order's first event is in the log for good (erasure masks patient data, never the study UID).
            var created = await operations.Events.FetchStreamAsync(orderId, 1, token: cancellation);
            studyOfOrder = created.Select(x => x.Data).OfType<OrderCreated>().FirstOrDefault()?.Details.StudyInstanceUid;
        }

        var tenant = operations.ForTenant(e.TenantId);
        foreach (var entry in StudyFeedMapping.Numbered(StudyFeedMapping.Map(e, studyOfOrder)))
        {
            tenant.Store(entry);
        }
    }
}
