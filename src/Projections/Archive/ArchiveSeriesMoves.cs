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

/// <summary>The filings of one document d series joining a study: one child per series document (see SeriesRefiledInto).</summary>
public sealed record ArchiveSeriesRefiledInto(IReadOnlyList<InstanceFiledInArchive> Filings);

public partial class ArchiveSeriesProjection
{
    private void RouteSeriesMoves()
    {
        FanOut<SeriesRefiledOut, ArchiveFilingHidden>(e => e.DepartedFilings, FanoutMode.BeforeGrouping);
        FanOut<SeriesRefiledIn, ArchiveSeriesRefiledInto>(
            e => e.Filed.GroupBy(SeriesId).Select(g => new ArchiveSeriesRefiledInto([.. g])), FanoutMode.BeforeGrouping);
        Identity<ArchiveSeriesRefiledInto>(e => SeriesId(e.Filings[0]));
    }

    public static ArchiveSeries Create(ArchiveSeriesRefiledInto refiled) =>
        refiled.Filings.Skip(1).Aggregate(Create(refiled.Filings[0]), (series, f) => Append(f, series));

    public ArchiveSeries Apply(ArchiveSeriesRefiledInto refiled, ArchiveSeries series) => refiled.Filings.Aggregate(series, (s, f) => Append(f, s));
}
