using JasperFx.Events.Grouping;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Studies;

/// <summary>Series moved between studies (StudySeriesEvents.cs).</summary>
public partial class StudyAggregation
{
    public static Study Create(SeriesRefiledIn refiled) => Study.Create(refiled);

    public Study Apply(SeriesRefiledIn refiled, Study study) => study.Apply(refiled);

    public Study Apply(SeriesRefiledOut refiled, Study study) => study.Apply(refiled);
}
