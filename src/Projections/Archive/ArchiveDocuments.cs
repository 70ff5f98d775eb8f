using EventSourced.Domain.Common;

namespace EventSourced.Projections.Archive;

// Document d's read models: which studies and series are filed in which project's archive, under which
// patient. They hold keys and membership only; the DICOM attributes document d answers with are read from
// the QIDO records of the same tenant at query time (one source of header truth, no second copy of PHI;
// docs/architecture.md, "Document d"). Conjoined like every tenant-owned document; ids are name-based on
// the tenant-scoped study stream id, so equal UIDs in two tenants or two archives never share a row.

/// <summary>Document ids of the archive read models.</summary>
public static class ArchiveKeys
{
    public static Guid Study(Guid studyStreamId, string project, string archive) =>
        DeterministicGuid.Create(studyStreamId, "archive\n" + project + "\n" + archive);

    public static Guid Series(Guid archiveStudyId, string archiveSeriesUid) =>
        DeterministicGuid.Create(archiveStudyId, "series\n" + archiveSeriesUid);
}

/// <summary>A study as filed in one project's archive.</summary>
public sealed record ArchiveStudy
{
    public Guid Id { get; init; }
    public required string Project { get; init; }
    public required string Archive { get; init; }
    public required string PatientId { get; init; }

    /// <summary>The study stream id (= QidoStudy.Id).</summary>
    public Guid StudyKey { get; init; }

    public required string StudyInstanceUid { get; init; }

    /// <summary>Document d's series keys of the study in this archive, sorted.</summary>
    public IReadOnlyList<string> Series { get; init; } = [];

    public int NumberOfInstances { get; init; }
    public DateTimeOffset FirstFiledAt { get; init; }
    public DateTimeOffset LastFiledAt { get; init; }
}

/// <summary>A series as document d names it, filed in one project's archive.</summary>
public sealed record ArchiveSeries
{
    public Guid Id { get; init; }

    /// <summary>The ArchiveStudy it belongs to.</summary>
    public Guid ArchiveStudyId { get; init; }

    public required string Project { get; init; }
    public required string Archive { get; init; }
    public required string PatientId { get; init; }
    public Guid StudyKey { get; init; }
    public required string StudyInstanceUid { get; init; }

    /// <summary>Document d's SeriesInstanceUID: the DICOM one, or the SOPInstanceUID for a retina instance.</summary>
    public required string ArchiveSeriesUid { get; init; }

    /// <summary>The DICOM SeriesInstanceUID (0020,000E) of its instances.</summary>
    public required string SeriesInstanceUid { get; init; }

    public required string SopClassUid { get; init; }

    /// <summary>True when the series is one retina instance (its key is the SOPInstanceUID).</summary>
    public bool Retina { get; init; }

    /// <summary>SOP Instance UIDs filed, sorted.</summary>
    public IReadOnlyList<string> Instances { get; init; } = [];

    public DateTimeOffset FirstFiledAt { get; init; }
    public DateTimeOffset LastFiledAt { get; init; }
}

/// <summary>The latest algorithm result of a type and name for a series in an archive.</summary>
public sealed record ArchiveSeriesResult
{
    public Guid Id { get; init; }

    /// <summary>The ArchiveSeries it belongs to.</summary>
    public Guid ArchiveSeriesId { get; init; }

    public string ResultType { get; init; } = "";
    public string Name { get; init; } = "";
    public string Algorithm { get; init; } = "";

    /// <summary>A scalar result: a JSON number or string.</summary>
    public System.Text.Json.JsonElement? Value { get; init; }

    /// <summary>A file result.</summary>
    public Domain.Studies.BlobRef? File { get; init; }

    public string? FileName { get; init; }
    public DateTimeOffset RecordedAt { get; init; }

    public static Guid IdOf(Guid archiveSeriesId, string resultType, string name) =>
        DeterministicGuid.Create(archiveSeriesId, "result\n" + resultType + "\n" + name);
}

/// <summary>One reporting form submission for a series in an archive.</summary>
public sealed record ArchiveFormEntry
{
    public Guid Id { get; init; }
    public Guid ArchiveSeriesId { get; init; }
    public string ArchiveSeriesUid { get; init; } = "";
    public string FormName { get; init; } = "";
    /// <summary>The submitted JSON text.</summary>
    public string Entry { get; init; } = "";
    public string SubmittedBy { get; init; } = "";
    public DateTimeOffset SubmittedAt { get; init; }
}
