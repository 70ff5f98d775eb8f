using System.Text.Json;
using EventSourced.Domain.Studies;

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

    // --- Patient corrections (QidoStudyCorrections.cs) ---

    /// <summary>The patient a correction filed the study under; null: the patient of the received headers.</summary>
    public Domain.Patients.PatientDemographics? AssignedPatient { get; init; }

    /// <summary>Attributes as received (latest instance), before the assigned patient is laid over them.</summary>
    public JsonElement ReceivedAttributes { get; init; }

    // --- Series moves (QidoSeriesMoves.cs) ---

    /// <summary>Instances whose series joined this study from another: SOPInstanceUID → the StudyInstanceUID their stored bytes carry (retrieval coerces them).</summary>
    public IReadOnlyDictionary<string, string> RefiledFrom { get; init; } = new Dictionary<string, string>();
}

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

/// <summary>An instance: its identifying attributes and its whole DICOM JSON (for metadata retrieval).</summary>
public sealed record QidoInstance
{
    public Guid Id { get; init; }
    public Guid StudyKey { get; init; }
    public Guid SeriesKey { get; init; }
    public required string StudyInstanceUid { get; init; }
    public required string SeriesInstanceUid { get; init; }
    public required string SopInstanceUid { get; init; }
    public required string SopClassUid { get; init; }
    public int? InstanceNumber { get; init; }
    public required string TransferSyntaxUid { get; init; }
    public required BlobRef Blob { get; init; }
    public IngestChannel Channel { get; init; }
    public string? CallingAeTitle { get; init; }
    public string? StationName { get; init; }
    public DateTimeOffset StoredAt { get; init; }

    /// <summary>The previous SHA-256 when this instance replaced other bytes.</summary>
    public string? ReplacedSha256 { get; init; }

    /// <summary>The instance's DICOM JSON (PS3.18 Annex F, bulk data excluded), as stored in the event.</summary>
    public JsonElement Header { get; init; }
}
