using JasperFx.Events.Grouping;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Qido;

// Deleted content leaves the QIDO records. Unlike a deprecation, a delete may take part of a DICOM series
// (a retina instance is a document d series of its own; an instance still filed in another archive
// stays), so a series record goes only when the delete empties it (StudyContentDeleted.EmptiedSeries);
// otherwise its count shrinks. Restored content comes back through the InstanceStored children.

/// <summary>Instances of a series left by a delete that does not empty it (a projection-internal child event).</summary>
public sealed record QidoSeriesShrunk(Guid StudyStreamId, string SeriesInstanceUid, int Removed);

public partial class QidoStudyProjection
{
    public bool ShouldDelete(StudyContentDeleted deleted, QidoStudy study) =>
        HoldsOnly(study, deleted.Hidden.Select(h => h.SopInstanceUid));

    public QidoStudy Apply(StudyContentDeleted deleted, QidoStudy study) =>
        deleted.Hidden.Count == 0 ? study : Without(study, deleted.Hidden.Select(h => h.SopInstanceUid), deleted.EmptiedSeries);

    public static QidoStudy Create(DeletedContentRestored restored) =>
        Restore(new QidoStudy { Id = restored.StudyStreamId, StudyInstanceUid = restored.Restored[0].Instance.StudyInstanceUid, ReceivedAt = restored.Restored[0].StoredAt }, restored.Restored);

    public QidoStudy Apply(DeletedContentRestored restored, QidoStudy study) => Restore(study, restored.Restored);

    /// <summary>Restored instances (of a delete or a deprecation undone) applied as one step.</summary>
    private static QidoStudy Restore(QidoStudy study, IReadOnlyList<InstanceStored> restored) =>
        Apply(study, [.. restored.Select(r => (r.Instance, r.StoredAt))]);
}

public partial class QidoSeriesProjection
{
    private void RouteDeletion()
    {
        FanOut<StudyContentDeleted, InstanceHidden>(e => e.Hidden.Where(h => e.EmptiedSeries.Contains(h.SeriesInstanceUid)), FanoutMode.BeforeGrouping);
        FanOut<StudyContentDeleted, QidoSeriesShrunk>(e => e.Hidden
            .Where(h => !e.EmptiedSeries.Contains(h.SeriesInstanceUid))
            .GroupBy(h => h.SeriesInstanceUid)
            .Select(g => new QidoSeriesShrunk(e.StudyStreamId, g.Key, g.Count())), FanoutMode.BeforeGrouping);
        FanOut<DeletedContentRestored, InstanceStored>(e => e.Restored, FanoutMode.BeforeGrouping);
        Identity<QidoSeriesShrunk>(e => QidoKeys.Series(e.StudyStreamId, e.SeriesInstanceUid));
    }

    public QidoSeries Apply(QidoSeriesShrunk shrunk, QidoSeries series) =>
        series with { NumberOfSeriesRelatedInstances = Math.Max(0, series.NumberOfSeriesRelatedInstances - shrunk.Removed) };
}
