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
