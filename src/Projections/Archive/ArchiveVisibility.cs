using JasperFx.Events.Grouping;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Archive;

// Document d's read models drop deprecated content; the restore event's InstanceFiledInArchive children
// file it again through the ordinary Create/Apply.

public partial class ArchiveStudyProjection
{
    private void RouteVisibility()
    {
        FanOut<StudyDeprecationCompleted, ArchiveFilingHidden>(e => e.HiddenFilings, FanoutMode.BeforeGrouping);
        FanOut<StudyDeprecationRevoked, ArchiveFilingHidden>(e => e.HiddenFilings, FanoutMode.BeforeGrouping);
        FanOut<StudyDeprecationRevoked, InstanceFiledInArchive>(e => e.Refiled, FanoutMode.BeforeGrouping);
        Identity<ArchiveFilingHidden>(e => ArchiveKeys.Study(e.StudyStreamId, e.Project, e.Archive));
    }

    // Whole series are hidden at once, so the series key goes with its first hidden instance; the study
    // goes with its last instance (null deletes the document).
    public ArchiveStudy? Apply(ArchiveFilingHidden hidden, ArchiveStudy study) => study.NumberOfInstances <= 1
        ? null
        : study with
        {
            Series = [.. study.Series.Where(s => s != hidden.ArchiveSeriesUid)],
            NumberOfInstances = study.NumberOfInstances - 1,
        };
}

public partial class ArchiveSeriesProjection
{
    private void RouteVisibility()
    {
        FanOut<StudyDeprecationCompleted, ArchiveFilingHidden>(e => e.HiddenFilings, FanoutMode.BeforeGrouping);
        FanOut<StudyDeprecationRevoked, ArchiveFilingHidden>(e => e.HiddenFilings, FanoutMode.BeforeGrouping);
        FanOut<StudyDeprecationRevoked, InstanceFiledInArchive>(e => e.Refiled, FanoutMode.BeforeGrouping);
        Identity<ArchiveFilingHidden>(e => ArchiveKeys.Series(ArchiveKeys.Study(e.StudyStreamId, e.Project, e.Archive), e.ArchiveSeriesUid));
    }

    public bool ShouldDelete(ArchiveFilingHidden hidden) => true;
}
