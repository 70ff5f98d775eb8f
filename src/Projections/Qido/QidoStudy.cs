using System.Text.Json;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten.Events.Aggregation;

namespace EventSourced.Projections.Qido;

// The QIDO-RS read models (PS3.18 §10.6): one document per study, series and instance, per tenant
// (conjoined: every table has tenant_id; the ids are derived from the tenant-scoped study stream id as
// well, so equal UIDs in two tenants never share a row). Projected inline from the study stream, so a
// stored instance is visible to QIDO when the store command returns. Every matchable attribute is a
// top-level property (a duplicated, indexed column, see QidoRegistration); the DICOM JSON the response
// is built from is kept beside it (Attributes / Header).

/// <summary>A study: patient and study attributes of its latest stored instance, plus what is computed over its instances.</summary>
public sealed record QidoStudy
{
    /// <summary>The study stream id (name-based Guid of tenant and StudyInstanceUID).</summary>
    public Guid Id { get; init; }

    public required string StudyInstanceUid { get; init; }
    public string? PatientId { get; init; }

    /// <summary>PN, the first value's alphabetic group as stored (e.g. <c>Doe^John</c>).</summary>
    public string? PatientName { get; init; }

    /// <summary>Upper-case, accent-free words of every group of the name, each preceded by a space (fuzzy matching).</summary>
    public string? PatientNameFuzzy { get; init; }

    public string? PatientBirthDate { get; init; }
    public string? PatientSex { get; init; }
    public string? StudyDate { get; init; }

    /// <summary>StudyTime as <c>HHMMSS.FFFFFF</c> (padded), so ranges compare as text.</summary>
    public string? StudyTime { get; init; }

    public string? AccessionNumber { get; init; }
    public string? StudyId { get; init; }
    public string? ReferringPhysicianName { get; init; }
    public string? ReferringPhysicianNameFuzzy { get; init; }
    public string? StudyDescription { get; init; }
    public string? InstitutionName { get; init; }
    public IReadOnlyList<string> ModalitiesInStudy { get; init; } = [];
    public int NumberOfStudyRelatedSeries { get; init; }
    public int NumberOfStudyRelatedInstances { get; init; }

    /// <summary>When the study's first instance was stored.</summary>
    public DateTimeOffset ReceivedAt { get; init; }

    /// <summary>When an instance of the study was last stored or replaced.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    public long SizeInBytes { get; init; }
    public IReadOnlyList<string> CallingAeTitles { get; init; } = [];
    public IReadOnlyList<string> StationNames { get; init; } = [];

    /// <summary>Patient and study level DICOM JSON (QidoAttributes.StudyLevel) of the latest stored instance.</summary>
    public JsonElement Attributes { get; init; }

    /// <summary>Series of the study: SeriesInstanceUID → Modality (latest).</summary>
    public IReadOnlyDictionary<string, string> SeriesModalities { get; init; } = new Dictionary<string, string>();

    /// <summary>Instances of the study: SOPInstanceUID → blob size, for the counts and the study size.</summary>
    public IReadOnlyDictionary<string, long> InstanceSizes { get; init; } = new Dictionary<string, long>();

    // --- Patient corrections (QidoStudy.Corrections.cs) ---

    /// <summary>The patient a correction filed the study under; null: the patient of the received headers.</summary>
    public Domain.Patients.PatientDemographics? AssignedPatient { get; init; }

    /// <summary>Attributes as received (latest instance), before the assigned patient is laid over them.</summary>
    public JsonElement ReceivedAttributes { get; init; }

    // --- Series moves (QidoStudy.SeriesMoves.cs) ---

    /// <summary>Instances whose series joined this study from another: SOPInstanceUID → the StudyInstanceUID their stored bytes carry (retrieval coerces them).</summary>
    public IReadOnlyDictionary<string, string> RefiledFrom { get; init; } = new Dictionary<string, string>();
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

    public static QidoStudy Create(InstancesStored stored) =>
        Apply(new QidoStudy { Id = stored.StudyStreamId, StudyInstanceUid = stored.Instances[0].StudyInstanceUid, ReceivedAt = stored.StoredAt },
            [.. stored.Instances.Select(i => (i, stored.StoredAt))]);

    public QidoStudy Apply(InstancesStored stored, QidoStudy study) => Apply(study, [.. stored.Instances.Select(i => (i, stored.StoredAt))]);

    public QidoStudy Apply(InstanceReplaced replaced, QidoStudy study) => Apply(study, replaced.Instance, replaced.ReplacedAt);

    private static QidoStudy Apply(QidoStudy study, StoredInstance instance, DateTimeOffset at) => Apply(study, [(instance, at)]);

    /// <summary>
    /// The instances applied in their order, as one step: the study's series and sizes are copied once, not once per
    /// instance (a request of thousands of instances was quadratic in them), and the attributes are those of the last
    /// instance, as applying them one by one leaves them (each instance's replace the one's before).
    /// </summary>
    private static QidoStudy Apply(QidoStudy study, IReadOnlyList<(StoredInstance Instance, DateTimeOffset At)> instances)
    {
        if (instances.Count == 0)
        {
            return study;
        }

        var series = new SortedDictionary<string, string>(study.SeriesModalities.ToDictionary(), StringComparer.Ordinal);
        var sizes = new SortedDictionary<string, long>(study.InstanceSizes.ToDictionary(), StringComparer.Ordinal);
        var callingAeTitles = study.CallingAeTitles;
        var stationNames = study.StationNames;
        foreach (var (instance, _) in instances)
        {
            series[instance.SeriesInstanceUid] = QidoAttributes.First(instance.Header, Tags.Modality) ?? "";
            sizes[instance.SopInstanceUid] = instance.Blob.Length;
            callingAeTitles = Add(callingAeTitles, instance.CallingAeTitle);
            stationNames = Add(stationNames, instance.StationName ?? QidoAttributes.First(instance.Header, Tags.StationName));
        }

        var (last, at) = instances[^1];
        var header = last.Header;

        // Patient corrections (QidoStudy.Corrections.cs): the assigned patient, if any, over the received attributes.
        return WithAssignedPatient(study with
        {
            ReceivedAttributes = default,
            PatientId = QidoAttributes.First(header, Tags.PatientID),
            PatientName = QidoAttributes.First(header, Tags.PatientName),
            PatientNameFuzzy = QidoAttributes.Fuzzy(QidoAttributes.PersonNameGroups(header, Tags.PatientName)),
            PatientBirthDate = QidoAttributes.Date(header, Tags.PatientBirthDate),
            PatientSex = QidoAttributes.First(header, Tags.PatientSex),
            StudyDate = QidoAttributes.Date(header, Tags.StudyDate),
            StudyTime = QidoAttributes.Time(header, Tags.StudyTime),
            AccessionNumber = QidoAttributes.First(header, Tags.AccessionNumber),
            StudyId = QidoAttributes.First(header, Tags.StudyID),
            ReferringPhysicianName = QidoAttributes.First(header, Tags.ReferringPhysicianName),
            ReferringPhysicianNameFuzzy = QidoAttributes.Fuzzy(QidoAttributes.PersonNameGroups(header, Tags.ReferringPhysicianName)),
            StudyDescription = QidoAttributes.First(header, Tags.StudyDescription),
            InstitutionName = QidoAttributes.First(header, Tags.InstitutionName),
            SeriesModalities = series,
            InstanceSizes = sizes,
            ModalitiesInStudy = [.. series.Values.Where(m => m.Length > 0).Distinct().Order(StringComparer.Ordinal)],
            NumberOfStudyRelatedSeries = series.Count,
            NumberOfStudyRelatedInstances = sizes.Count,
            SizeInBytes = sizes.Values.Sum(),
            UpdatedAt = at,
            CallingAeTitles = callingAeTitles,
            StationNames = stationNames,
            Attributes = QidoAttributes.Select(header, QidoAttributes.StudyLevel),
        });
    }

    /// <summary>Whether every instance the study holds is among <paramref name="instances"/> (the study is emptied by their leaving).</summary>
    private static bool HoldsOnly(QidoStudy study, IEnumerable<string> instances)
    {
        var leaving = instances.ToHashSet(StringComparer.Ordinal);
        return study.InstanceSizes.Keys.All(leaving.Contains);
    }

    private static IReadOnlyList<string> Add(IReadOnlyList<string> set, string? value) =>
        string.IsNullOrWhiteSpace(value) ? set : OrdinalSet.With(set, value.Trim());
}
