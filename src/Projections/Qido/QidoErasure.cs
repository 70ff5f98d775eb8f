using System.Text.Json;
using EventSourced.Domain.Studies;

namespace EventSourced.Projections.Qido;

// An erasure rewrote an instance: its records show the rewritten header and blob, and the study no longer
// shows an assigned patient. Applied after the masked history, so a rebuild ends where the live records did.

public partial class QidoStudyProjection
{
    public QidoStudy? Apply(InstanceErased erased, QidoStudy study) =>
        study.Attributes.ValueKind != JsonValueKind.Object || !study.InstanceSizes.ContainsKey(erased.Instance.SopInstanceUid)
            ? NullIfEmpty(study)
            : Apply(study with { AssignedPatient = null }, erased.Instance, erased.ErasedAt);

    // A hidden (deprecated) instance has left the study record: the record stays as it is.
    private static QidoStudy? NullIfEmpty(QidoStudy study) => study.Attributes.ValueKind != JsonValueKind.Object ? null : study;
}

public partial class QidoSeriesProjection
{
    public QidoSeries? Apply(InstanceErased erased, QidoSeries series) =>
        series.Attributes.ValueKind != JsonValueKind.Object ? null : Apply(series, erased.Instance, erased.ErasedAt, 0);
}
