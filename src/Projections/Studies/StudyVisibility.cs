using JasperFx.Events.Grouping;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Studies;

public partial class StudyAggregation
{
    public Study Apply(StudyDeprecationStarted started, Study study) => study.Apply(started);

    public Study Apply(StudyDeprecationCompleted completed, Study study) => study.Apply(completed);

    public Study Apply(StudyDeprecationRevoked revoked, Study study) => study.Apply(revoked);

    public Study Apply(StudyContentDeleted deleted, Study study) => study.Apply(deleted);

    public Study Apply(DeletedContentRestored restored, Study study) => study.Apply(restored);

    public Study Apply(DeletedContentPurged purged, Study study) => study.Apply(purged);
}

/// <summary>Deprecated instances are not retrievable; restored ones are again (the restore event's InstanceStored children).</summary>
public partial class InstanceLocationProjection
{
    private void RouteVisibility()
    {
        FanOut<StudyDeprecationCompleted, InstanceHidden>(e => e.Hidden, FanoutMode.BeforeGrouping);
        FanOut<StudyDeprecationRevoked, InstanceHidden>(e => e.Hidden, FanoutMode.BeforeGrouping);
        FanOut<StudyDeprecationRevoked, InstanceStored>(e => e.Restored, FanoutMode.BeforeGrouping);
        FanOut<StudyContentDeleted, InstanceHidden>(e => e.Hidden, FanoutMode.BeforeGrouping);
        FanOut<DeletedContentRestored, InstanceStored>(e => e.Restored, FanoutMode.BeforeGrouping);
        Identity<InstanceHidden>(e => e.SopInstanceUid);
    }

    public bool ShouldDelete(InstanceHidden hidden) => true;
}
