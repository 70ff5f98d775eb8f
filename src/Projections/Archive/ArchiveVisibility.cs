using JasperFx.Events.Grouping;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Archive;

// Document d's read models drop deprecated and deleted content; the restore event's InstanceFiledInArchive children
// file it again through the ordinary Create/Apply.

/// <summary>The last visible filing of a study in an archive was hidden: the archive's study record goes (a projection-internal child event).</summary>
public sealed record ArchiveStudyEmptied(Guid StudyStreamId, string Project, string Archive);

public partial class ArchiveStudyProjection
{
    private void RouteVisibility()
    {
        FanOut<StudyDeprecationCompleted, ArchiveStudyEmptied>(e => Emptied(e.HiddenFilings), FanoutMode.BeforeGrouping);
        FanOut<StudyDeprecationRevoked, ArchiveStudyEmptied>(e => Emptied(e.HiddenFilings), FanoutMode.BeforeGrouping);
        FanOut<StudyDeprecationRevoked, InstanceFiledInArchive>(e => e.Refiled, FanoutMode.BeforeGrouping);
        FanOut<StudyContentDeleted, ArchiveStudyEmptied>(e => Emptied(e.HiddenFilings), FanoutMode.BeforeGrouping);
        FanOut<DeletedContentRestored, InstanceFiledInArchive>(e => e.Refiled, FanoutMode.BeforeGrouping);
        Identity<ArchiveStudyEmptied>(e => ArchiveKeys.Study(e.StudyStreamId, e.Project, e.Archive));
    }

    private static IEnumerable<ArchiveStudyEmptied> Emptied(IEnumerable<ArchiveFilingHidden> hidden) =>
        hidden.Where(h => h.EmptiesArchiveStudy).Select(h => new ArchiveStudyEmptied(h.StudyStreamId, h.Project, h.Archive));

    // A conditional ShouldDelete on ArchiveFilingHidden was never honoured by the aggregation, hence the
    // separate child. The record's Series and NumberOfInstances (read by no route: document d lists
    // series from ArchiveSeries) keep counting the filings of a deprecated series.
    public bool ShouldDelete(ArchiveStudyEmptied emptied) => true;
}

public partial class ArchiveSeriesProjection
{
    private void RouteVisibility()
    {
        FanOut<StudyDeprecationCompleted, ArchiveFilingHidden>(e => e.HiddenFilings, FanoutMode.BeforeGrouping);
        FanOut<StudyDeprecationRevoked, ArchiveFilingHidden>(e => e.HiddenFilings, FanoutMode.BeforeGrouping);
        FanOut<StudyDeprecationRevoked, InstanceFiledInArchive>(e => e.Refiled, FanoutMode.BeforeGrouping);
        FanOut<StudyContentDeleted, ArchiveFilingHidden>(e => e.HiddenFilings, FanoutMode.BeforeGrouping);
        FanOut<DeletedContentRestored, InstanceFiledInArchive>(e => e.Refiled, FanoutMode.BeforeGrouping);
        Identity<ArchiveFilingHidden>(e => ArchiveKeys.Series(ArchiveKeys.Study(e.StudyStreamId, e.Project, e.Archive), e.ArchiveSeriesUid));
    }

    public bool ShouldDelete(ArchiveFilingHidden hidden) => true;
}
