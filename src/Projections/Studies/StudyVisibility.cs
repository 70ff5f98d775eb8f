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
