using JasperFx.Events.Grouping;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Qido;

// Series moved between studies (StudySeriesEvents.cs): the instances leave the QIDO records of the study
// they left (as deprecated ones do, through InstanceHidden children) and enter those of the study they
// joined (InstanceRefiled children, shown as that study shows them). A study left without instances
// leaves QIDO; it comes back when series join it again (an undo).

public partial class QidoStudyProjection
{
    /// <summary>A study begun by a reconcile, or one a move had emptied and an undo fills again: it shows what joined it.</summary>
    public static QidoStudy Create(SeriesRefiledIn refiled)
    {
        var first = refiled.Arrived.MinBy(a => a.StoredAt)!;
        var study = Apply(
            new QidoStudy { Id = refiled.StudyStreamId, StudyInstanceUid = refiled.StudyInstanceUid, ReceivedAt = first.StoredAt },
            [.. refiled.Arrived.Select(a => (a.Instance, a.StoredAt))]);
        return study with { RefiledFrom = RefiledFrom(study.RefiledFrom, refiled) };
    }

    /// <summary>An existing study keeps its attributes (document e: "no study attribute will be changed"); what is counted over its instances follows.</summary>
    public QidoStudy Apply(SeriesRefiledIn refiled, QidoStudy study)
    {
        if (study.Attributes.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            return Create(refiled);
        }

        var counted = Apply(study, [.. refiled.Arrived.Select(a => (a.Instance, a.StoredAt))]);
        return study with
        {
            SeriesModalities = counted.SeriesModalities,
            InstanceSizes = counted.InstanceSizes,
            ModalitiesInStudy = counted.ModalitiesInStudy,
            NumberOfStudyRelatedSeries = counted.NumberOfStudyRelatedSeries,
            NumberOfStudyRelatedInstances = counted.NumberOfStudyRelatedInstances,
            SizeInBytes = counted.SizeInBytes,
            RefiledFrom = RefiledFrom(study.RefiledFrom, refiled),
        };
    }

    public bool ShouldDelete(SeriesRefiledOut refiled, QidoStudy study) =>
        HoldsOnly(study, refiled.Departed.Select(d => d.SopInstanceUid));

    public QidoStudy Apply(SeriesRefiledOut refiled, QidoStudy study)
    {
        var gone = refiled.Departed.Select(d => d.SopInstanceUid).ToHashSet(StringComparer.Ordinal);
        return Without(study, refiled.Departed) with
        {
            RefiledFrom = new SortedDictionary<string, string>(study.RefiledFrom.Where(r => !gone.Contains(r.Key)).ToDictionary(), StringComparer.Ordinal),
        };
    }

    private static SortedDictionary<string, string> RefiledFrom(IReadOnlyDictionary<string, string> current, SeriesRefiledIn refiled)
    {
        var map = new SortedDictionary<string, string>(current.ToDictionary(), StringComparer.Ordinal);
        foreach (var arrived in refiled.Arrived)
        {
            if (arrived.ReceivedStudyInstanceUid == refiled.StudyInstanceUid)
            {
                map.Remove(arrived.Instance.SopInstanceUid);
            }
            else
            {
                map[arrived.Instance.SopInstanceUid] = arrived.ReceivedStudyInstanceUid;
            }
        }

        return map;
    }
}

public partial class QidoSeriesProjection
{
    private void RouteSeriesMoves()
    {
        FanOut<SeriesRefiledOut, InstanceHidden>(e => e.Departed, FanoutMode.BeforeGrouping);
        FanOut<SeriesRefiledIn, InstanceRefiled>(e => e.Arrived, FanoutMode.BeforeGrouping);
        Identity<InstanceRefiled>(e => QidoKeys.Series(e.StudyStreamId, e.Instance.SeriesInstanceUid));
    }

    public static QidoSeries Create(InstanceRefiled refiled) => Apply(
        new QidoSeries
        {
            Id = QidoKeys.Series(refiled.StudyStreamId, refiled.Instance.SeriesInstanceUid),
            StudyKey = refiled.StudyStreamId,
            StudyInstanceUid = refiled.Instance.StudyInstanceUid,
            SeriesInstanceUid = refiled.Instance.SeriesInstanceUid,
            ReceivedAt = refiled.StoredAt,
        },
        refiled.Instance, refiled.StoredAt, 1);

    public QidoSeries Apply(InstanceRefiled refiled, QidoSeries series) => Apply(series, refiled.Instance, refiled.StoredAt, 1);
}
