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

/// <summary>
/// A moved instance is retrieved under the study it joined. Only the joining side is routed here: the
/// location is one document per SOP instance, which the leaving side would delete in the same batch.
/// </summary>
public partial class InstanceLocationProjection
{
    private void RouteSeriesMoves()
    {
        FanOut<SeriesRefiledIn, InstanceRefiled>(e => e.Arrived, FanoutMode.BeforeGrouping);
        Identity<InstanceRefiled>(e => e.Instance.SopInstanceUid);
    }

    public static InstanceLocation Create(InstanceRefiled refiled) => From(refiled.Instance, refiled.StoredAt);

    public InstanceLocation Apply(InstanceRefiled refiled, InstanceLocation _) => From(refiled.Instance, refiled.StoredAt);
}
