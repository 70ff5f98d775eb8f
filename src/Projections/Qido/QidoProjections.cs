using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten.Events.Aggregation;
using Marten.Events.Projections;

namespace EventSourced.Projections.Qido;

/// <summary>Document ids of the series and instance read models: name-based on the tenant-scoped study stream id.</summary>
public static class QidoKeys
{
    public static Guid Series(Guid studyStreamId, string seriesInstanceUid) =>
        DeterministicGuid.Create(studyStreamId, "series\n" + seriesInstanceUid);

    public static Guid Instance(Guid studyStreamId, string sopInstanceUid) =>
        DeterministicGuid.Create(studyStreamId, "instance\n" + sopInstanceUid);
}

/// <summary>
/// The study document. Deterministic: times from the payloads, sets kept sorted, so a rebuild gives the
/// same documents. The latest instance's patient/study attributes win (instances of a study normally
/// agree; when they do not, the last stored is what QIDO shows).
/// </summary>
public partial class QidoStudyProjection : SingleStreamProjection<QidoStudy, Guid>
{
    public static QidoStudy Create(InstanceStored stored) =>
        Apply(new QidoStudy { Id = stored.StudyStreamId, StudyInstanceUid = stored.Instance.StudyInstanceUid, ReceivedAt = stored.StoredAt },
            stored.Instance, stored.StoredAt);

    public QidoStudy Apply(InstanceStored stored, QidoStudy study) => Apply(study, stored.Instance, stored.StoredAt);

    public QidoStudy Apply(InstanceReplaced replaced, QidoStudy study) => Apply(study, replaced.Instance, replaced.ReplacedAt);

    private static QidoStudy Apply(QidoStudy study, StoredInstance instance, DateTimeOffset at)
    {
        var header = instance.Header;
        var series = new SortedDictionary<string, string>(study.SeriesModalities.ToDictionary(), StringComparer.Ordinal)
        {
            [instance.SeriesInstanceUid] = QidoAttributes.First(header, "00080060") ?? "",
        };
        var sizes = new SortedDictionary<string, long>(study.InstanceSizes.ToDictionary(), StringComparer.Ordinal)
        {
            [instance.SopInstanceUid] = instance.Blob.Length,
        };

        // Patient corrections (QidoStudyCorrections.cs): the assigned patient, if any, over the received attributes.
        return WithAssignedPatient(study with
        {
            ReceivedAttributes = default,
            PatientId = QidoAttributes.First(header, "00100020"),
            PatientName = QidoAttributes.First(header, "00100010"),
            PatientNameFuzzy = QidoAttributes.Fuzzy(QidoAttributes.PersonNameGroups(header, "00100010")),
            PatientBirthDate = QidoAttributes.Date(header, "00100030"),
            PatientSex = QidoAttributes.First(header, "00100040"),
            StudyDate = QidoAttributes.Date(header, "00080020"),
            StudyTime = QidoAttributes.Time(header, "00080030"),
            AccessionNumber = QidoAttributes.First(header, "00080050"),
            StudyId = QidoAttributes.First(header, "00200010"),
            ReferringPhysicianName = QidoAttributes.First(header, "00080090"),
            ReferringPhysicianNameFuzzy = QidoAttributes.Fuzzy(QidoAttributes.PersonNameGroups(header, "00080090")),
            StudyDescription = QidoAttributes.First(header, "00081030"),
            InstitutionName = QidoAttributes.First(header, "00080080"),
            SeriesModalities = series,
            InstanceSizes = sizes,
            ModalitiesInStudy = [.. series.Values.Where(m => m.Length > 0).Distinct().Order(StringComparer.Ordinal)],
            NumberOfStudyRelatedSeries = series.Count,
            NumberOfStudyRelatedInstances = sizes.Count,
            SizeInBytes = sizes.Values.Sum(),
            UpdatedAt = at,
            CallingAeTitles = Add(study.CallingAeTitles, instance.CallingAeTitle),
            StationNames = Add(study.StationNames, instance.StationName ?? QidoAttributes.First(header, "00081010")),
            Attributes = QidoAttributes.Select(header, QidoAttributes.StudyLevel),
        });
    }

    private static IReadOnlyList<string> Add(IReadOnlyList<string> set, string? value) =>
        string.IsNullOrWhiteSpace(value) || set.Contains(value.Trim())
            ? set
            : [.. set.Append(value.Trim()).Order(StringComparer.Ordinal)];
}

/// <summary>The series documents: one per (study stream, SeriesInstanceUID).</summary>
public partial class QidoSeriesProjection : MultiStreamProjection<QidoSeries, Guid>
{
    public QidoSeriesProjection()
    {
        Identity<InstanceStored>(e => QidoKeys.Series(e.StudyStreamId, e.Instance.SeriesInstanceUid));
        Identity<InstanceReplaced>(e => QidoKeys.Series(e.StudyStreamId, e.Instance.SeriesInstanceUid));
        Identity<InstanceErased>(e => QidoKeys.Series(e.StudyStreamId, e.Instance.SeriesInstanceUid));
        RouteVisibility();
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
            Modality = QidoAttributes.First(header, "00080060"),
            SeriesNumber = QidoAttributes.Integer(header, "00200011"),
            SeriesDescription = QidoAttributes.First(header, "0008103E"),
            PerformedProcedureStepStartDate = QidoAttributes.Date(header, "00400244"),
            PerformedProcedureStepStartTime = QidoAttributes.Time(header, "00400245"),
            NumberOfSeriesRelatedInstances = series.NumberOfSeriesRelatedInstances + added,
            UpdatedAt = at,
            Attributes = QidoAttributes.Select(header, QidoAttributes.SeriesLevel),
        };
    }
}

/// <summary>The instance documents: one per (study stream, SOPInstanceUID); a replacement overwrites it.</summary>
public partial class QidoInstanceProjection : MultiStreamProjection<QidoInstance, Guid>
{
    public QidoInstanceProjection()
    {
        Identity<InstanceStored>(e => QidoKeys.Instance(e.StudyStreamId, e.Instance.SopInstanceUid));
        Identity<InstanceReplaced>(e => QidoKeys.Instance(e.StudyStreamId, e.Instance.SopInstanceUid));
        Identity<InstanceErased>(e => QidoKeys.Instance(e.StudyStreamId, e.Instance.SopInstanceUid));
        RouteVisibility();
    }

    public static QidoInstance Create(InstanceStored stored) => From(stored.StudyStreamId, stored.Instance, stored.StoredAt, null);

    public QidoInstance Apply(InstanceStored stored, QidoInstance current) => From(stored.StudyStreamId, stored.Instance, stored.StoredAt, null);

    public QidoInstance Apply(InstanceReplaced replaced, QidoInstance current) =>
        From(replaced.StudyStreamId, replaced.Instance, replaced.ReplacedAt, replaced.PreviousSha256);

    private static QidoInstance From(Guid studyStreamId, StoredInstance instance, DateTimeOffset at, string? replacedSha256) => new()
    {
        Id = QidoKeys.Instance(studyStreamId, instance.SopInstanceUid),
        StudyKey = studyStreamId,
        SeriesKey = QidoKeys.Series(studyStreamId, instance.SeriesInstanceUid),
        StudyInstanceUid = instance.StudyInstanceUid,
        SeriesInstanceUid = instance.SeriesInstanceUid,
        SopInstanceUid = instance.SopInstanceUid,
        SopClassUid = instance.SopClassUid,
        InstanceNumber = QidoAttributes.Integer(instance.Header, "00200013"),
        TransferSyntaxUid = instance.TransferSyntaxUid,
        Blob = instance.Blob,
        Channel = instance.Channel,
        CallingAeTitle = instance.CallingAeTitle,
        StationName = instance.StationName,
        StoredAt = at,
        ReplacedSha256 = replacedSha256,
        Header = instance.Header,
    };
}
