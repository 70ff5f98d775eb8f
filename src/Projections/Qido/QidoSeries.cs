using System.Text.Json;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using JasperFx.Events.Grouping;
using Marten.Events.Projections;

namespace EventSourced.Projections.Qido;

/// <summary>A series: series attributes of its latest stored instance and its instance count.</summary>
public sealed record QidoSeries
{
    public Guid Id { get; init; }

    /// <summary>The study stream id (= QidoStudy.Id).</summary>
    public Guid StudyKey { get; init; }

    public required string StudyInstanceUid { get; init; }
    public required string SeriesInstanceUid { get; init; }
    public string? Modality { get; init; }
    public int? SeriesNumber { get; init; }
    public string? SeriesDescription { get; init; }
    public string? PerformedProcedureStepStartDate { get; init; }

    /// <summary>PerformedProcedureStepStartTime as <c>HHMMSS.FFFFFF</c>.</summary>
    public string? PerformedProcedureStepStartTime { get; init; }

    public int NumberOfSeriesRelatedInstances { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Series level DICOM JSON (QidoAttributes.SeriesLevel) of the latest stored instance.</summary>
    public JsonElement Attributes { get; init; }
}

/// <summary>The series documents: one per (study stream, SeriesInstanceUID).</summary>
public partial class QidoSeriesProjection : MultiStreamProjection<QidoSeries, Guid>
{
    public QidoSeriesProjection()
    {
        FanOut<InstancesStored, InstanceStored>(e => e.Children(), FanoutMode.BeforeGrouping);
        Identity<InstanceStored>(e => QidoKeys.Series(e.StudyStreamId, e.Instance.SeriesInstanceUid));
        Identity<InstanceReplaced>(e => QidoKeys.Series(e.StudyStreamId, e.Instance.SeriesInstanceUid));
        Identity<InstanceErased>(e => QidoKeys.Series(e.StudyStreamId, e.Instance.SeriesInstanceUid));
        RouteVisibility();
        RouteSeriesMoves();
        CustomGrouping(FanOutChildren.KeepEvery);
    }

    public static QidoSeries Create(InstanceStored stored) => Apply(
        new QidoSeries
        {
            Id = QidoKeys.Series(stored.StudyStreamId, stored.Instance.SeriesInstanceUid),
            StudyKey = stored.StudyStreamId,
            StudyInstanceUid = stored.Instance.StudyInstanceUid,
            SeriesInstanceUid = stored.Instance.SeriesInstanceUid,
            ReceivedAt = stored.StoredAt,
        },
        stored.Instance,
        stored.StoredAt,
        1);

    // InstanceStored is a new SOP instance of the study (StudyDecisions.Store appends it only for a SOP
    // Instance UID the study does not hold); InstanceReplaced is new bytes for one it holds, in the same
    // series. So the count is a count of InstanceStored, and the document needs no list of its instances.
    public QidoSeries Apply(InstanceStored stored, QidoSeries series) => Apply(series, stored.Instance, stored.StoredAt, 1);

    public QidoSeries Apply(InstanceReplaced replaced, QidoSeries series) => Apply(series, replaced.Instance, replaced.ReplacedAt, 0);

    private static QidoSeries Apply(QidoSeries series, StoredInstance instance, DateTimeOffset at, int added)
    {
        var header = instance.Header;
        return series with
        {
            Modality = QidoAttributes.First(header, Tags.Modality),
            SeriesNumber = QidoAttributes.Integer(header, Tags.SeriesNumber),
            SeriesDescription = QidoAttributes.First(header, Tags.SeriesDescription),
            PerformedProcedureStepStartDate = QidoAttributes.Date(header, Tags.PerformedProcedureStepStartDate),
            PerformedProcedureStepStartTime = QidoAttributes.Time(header, Tags.PerformedProcedureStepStartTime),
            NumberOfSeriesRelatedInstances = series.NumberOfSeriesRelatedInstances + added,
            UpdatedAt = at,
            Attributes = QidoAttributes.Select(header, QidoAttributes.SeriesLevel),
        };
    }
}
