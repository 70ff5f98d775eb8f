using JasperFx.Events.Grouping;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Archive;

// Series moved between studies leave document d's records of the study they left and are filed in the
// same Project/Archive under the study they joined (StudySeriesEvents.cs).

public partial class ArchiveStudyProjection
{
    private void RouteSeriesMoves()
    {
        FanOut<SeriesRefiledOut, ArchiveStudyEmptied>(e => Emptied(e.DepartedFilings), FanoutMode.BeforeGrouping);
        FanOut<SeriesRefiledIn, InstanceFiledInArchive>(e => e.Filed, FanoutMode.BeforeGrouping);
    }
}

public partial class ArchiveSeriesProjection
{
    private void RouteSeriesMoves()
    {
        FanOut<SeriesRefiledOut, ArchiveFilingHidden>(e => e.DepartedFilings, FanoutMode.BeforeGrouping);
        FanOut<SeriesRefiledIn, InstanceFiledInArchive>(e => e.Filed, FanoutMode.BeforeGrouping);
    }
}
