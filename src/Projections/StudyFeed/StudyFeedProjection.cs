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
        string? studyOfStream = null;
        if (StudyFeedMapping.StreamWhoseStudyIsNeeded(e.Data) is { } streamId)
        {
            // The stream's first event is in the log for good (erasure masks patient data, never the study UID).
            var first = await operations.Events.FetchStreamAsync(streamId, 1, token: cancellation);
            studyOfStream = first.Select(x => StudyFeedMapping.StudyOfFirstEvent(x.Data)).FirstOrDefault(uid => uid is not null);
        }

        var tenant = operations.ForTenant(e.TenantId);
        if (e.Data is Domain.Studies.InstanceErased erased)
        {
            // Entries written before the erasure (from the events as they were then) lose the patient's data.
            var sop = erased.Instance.SopInstanceUid;
            var earlier = await tenant.Query<StudyFeedEntry>()
                .Where(x => x.StudyInstanceUid == erased.Instance.StudyInstanceUid && x.Sequence < e.Sequence && (x.SopInstanceUid == sop || x.SopInstanceUid == null))
                .ToListAsync(cancellation);
            foreach (var entry in earlier)
            {
                tenant.Store(StudyFeedMapping.Erased(entry));
            }
        }

        foreach (var entry in StudyFeedMapping.Numbered(StudyFeedMapping.Map(e, studyOfStream)))
        {
            tenant.Store(entry);
        }
    }
}
