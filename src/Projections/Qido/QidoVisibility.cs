using JasperFx.Events.Grouping;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Qido;

// Deprecated content leaves the QIDO records; restored content comes back through the InstanceStored
// children of the restore event, handled by the ordinary Create/Apply. Deprecation hides whole series
// (or whole studies), so a series record goes with any of its hidden instances.

public partial class QidoStudyProjection
{
    public bool ShouldDelete(StudyDeprecationCompleted completed, QidoStudy study) =>
        HoldsOnly(study, completed.Hidden.Select(h => h.SopInstanceUid));

    public QidoStudy Apply(StudyDeprecationCompleted completed, QidoStudy study) => Without(study, completed.Hidden);

    public static QidoStudy Create(StudyDeprecationRevoked revoked) =>
        Restore(new QidoStudy { Id = revoked.StudyStreamId, StudyInstanceUid = revoked.Restored[0].Instance.StudyInstanceUid, ReceivedAt = revoked.Restored[0].StoredAt }, revoked.Restored);

    public QidoStudy Apply(StudyDeprecationRevoked revoked, QidoStudy study) => Restore(Without(study, revoked.Hidden), revoked.Restored);

    private static QidoStudy Without(QidoStudy study, IReadOnlyList<InstanceHidden> hidden)
    {
        if (hidden.Count == 0)
        {
            return study;
        }

        return Without(study, hidden.Select(h => h.SopInstanceUid), hidden.Select(h => h.SeriesInstanceUid));
    }

    /// <summary>The study without the instances <paramref name="instances"/> and the series <paramref name="series"/>.</summary>
    private static QidoStudy Without(QidoStudy study, IEnumerable<string> instances, IEnumerable<string> series)
    {
        var gone = instances.ToHashSet(StringComparer.Ordinal);
        var goneSeries = series.ToHashSet(StringComparer.Ordinal);
        var left = new SortedDictionary<string, string>(
            study.SeriesModalities.Where(s => !goneSeries.Contains(s.Key)).ToDictionary(), StringComparer.Ordinal);
        var sizes = new SortedDictionary<string, long>(
            study.InstanceSizes.Where(i => !gone.Contains(i.Key)).ToDictionary(), StringComparer.Ordinal);
        return study with
        {
            // A completion is always preceded by its study's InstanceStored; a lone one (never written by
            // the application) must still project to a storable record.
            Attributes = Storable(study.Attributes),
            ReceivedAttributes = Storable(study.ReceivedAttributes),
            SeriesModalities = left,
            InstanceSizes = sizes,
            ModalitiesInStudy = [.. left.Values.Where(m => m.Length > 0).Distinct().Order(StringComparer.Ordinal)],
            NumberOfStudyRelatedSeries = left.Count,
            NumberOfStudyRelatedInstances = sizes.Count,
            SizeInBytes = sizes.Values.Sum(),
        };
    }

    private static System.Text.Json.JsonElement Storable(System.Text.Json.JsonElement attributes) =>
        attributes.ValueKind == System.Text.Json.JsonValueKind.Undefined
            ? System.Text.Json.JsonSerializer.SerializeToElement(new Dictionary<string, object>())
            : attributes;
}

public partial class QidoSeriesProjection
{
    private void RouteVisibility()
    {
        FanOut<StudyDeprecationCompleted, InstanceHidden>(e => e.Hidden, FanoutMode.BeforeGrouping);
        FanOut<StudyDeprecationRevoked, InstanceHidden>(e => e.Hidden, FanoutMode.BeforeGrouping);
        FanOut<StudyDeprecationRevoked, InstanceStored>(e => e.Restored, FanoutMode.BeforeGrouping);
        RouteDeletion();
        Identity<InstanceHidden>(e => QidoKeys.Series(e.StudyStreamId, e.SeriesInstanceUid));
    }

    public bool ShouldDelete(InstanceHidden hidden) => true;
}
