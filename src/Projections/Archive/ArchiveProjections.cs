using EventSourced.Domain.Archive;
using Marten.Events.Projections;

namespace EventSourced.Projections.Archive;

/// <summary>
/// One ArchiveStudy per (study stream, Project, Archive). Deterministic (payload times, sorted lists), so a
/// rebuild reproduces it. The PatientID is the one the study was first filed under: the decision refuses
/// a different one (ArchiveDecisions.File).
/// </summary>
public partial class ArchiveStudyProjection : MultiStreamProjection<ArchiveStudy, Guid>
{
    public ArchiveStudyProjection()
    {
        Identity<InstanceFiledInArchive>(e => ArchiveKeys.Study(e.StudyStreamId, e.Project, e.Archive));
        Identities<Domain.Studies.InstanceErased>(e => [.. e.Archives.Select(a => ArchiveKeys.Study(e.StudyStreamId, a.Project, a.Archive))]);
        RouteVisibility();
    }

    /// <summary>The patient was erased: the record keeps the study and loses the PatientID (as the masked filings say).</summary>
    public ArchiveStudy? Apply(Domain.Studies.InstanceErased erased, ArchiveStudy study) =>
        study.Project is null ? null : study with { PatientId = Domain.Orders.OrderDetails.Erased };

    public static ArchiveStudy Create(InstanceFiledInArchive filed) => new()
    {
        Id = ArchiveKeys.Study(filed.StudyStreamId, filed.Project, filed.Archive),
        Project = filed.Project,
        Archive = filed.Archive,
        PatientId = filed.PatientId,
        StudyKey = filed.StudyStreamId,
        StudyInstanceUid = filed.StudyInstanceUid,
        Series = [filed.ArchiveSeriesUid],
        NumberOfInstances = 1,
        FirstFiledAt = filed.FiledAt,
        LastFiledAt = filed.FiledAt,
    };

    // The decision appends InstanceFiledInArchive once per SOP instance and archive, so the count is a count of events.
    public ArchiveStudy Apply(InstanceFiledInArchive filed, ArchiveStudy study) => study with
    {
        Series = study.Series.Contains(filed.ArchiveSeriesUid)
            ? study.Series
            : [.. study.Series.Append(filed.ArchiveSeriesUid).Order(StringComparer.Ordinal)],
        NumberOfInstances = study.NumberOfInstances + 1,
        LastFiledAt = filed.FiledAt,
    };
}

/// <summary>One ArchiveSeries per (ArchiveStudy, document d series key).</summary>
public partial class ArchiveSeriesProjection : MultiStreamProjection<ArchiveSeries, Guid>
{
    public ArchiveSeriesProjection()
    {
        Identity<InstanceFiledInArchive>(e => SeriesId(e));
        Identities<Domain.Studies.InstanceErased>(e =>
            [.. e.Archives.Select(a => ArchiveKeys.Series(ArchiveKeys.Study(e.StudyStreamId, a.Project, a.Archive), e.ArchiveSeriesUid))]);
        RouteVisibility();
    }

    public ArchiveSeries? Apply(Domain.Studies.InstanceErased erased, ArchiveSeries series) =>
        series.Project is null ? null : series with { PatientId = Domain.Orders.OrderDetails.Erased };

    private static Guid SeriesId(InstanceFiledInArchive e) =>
        ArchiveKeys.Series(ArchiveKeys.Study(e.StudyStreamId, e.Project, e.Archive), e.ArchiveSeriesUid);

    public static ArchiveSeries Create(InstanceFiledInArchive filed) => new()
    {
        Id = SeriesId(filed),
        ArchiveStudyId = ArchiveKeys.Study(filed.StudyStreamId, filed.Project, filed.Archive),
        Project = filed.Project,
        Archive = filed.Archive,
        PatientId = filed.PatientId,
        StudyKey = filed.StudyStreamId,
        StudyInstanceUid = filed.StudyInstanceUid,
        ArchiveSeriesUid = filed.ArchiveSeriesUid,
        SeriesInstanceUid = filed.SeriesInstanceUid,
        SopClassUid = filed.SopClassUid,
        Retina = RetinaSopClasses.Contains(filed.SopClassUid),
        Instances = [filed.SopInstanceUid],
        FirstFiledAt = filed.FiledAt,
        LastFiledAt = filed.FiledAt,
    };

    public ArchiveSeries Apply(InstanceFiledInArchive filed, ArchiveSeries series) => series with
    {
        Instances = series.Instances.Contains(filed.SopInstanceUid)
            ? series.Instances
            : [.. series.Instances.Append(filed.SopInstanceUid).Order(StringComparer.Ordinal)],
        LastFiledAt = filed.FiledAt,
    };
}

/// <summary>One ArchiveSeriesResult per (series, type, name): the latest recorded wins.</summary>
public partial class ArchiveSeriesResultProjection : MultiStreamProjection<ArchiveSeriesResult, Guid>
{
    public ArchiveSeriesResultProjection()
    {
        Identity<SeriesResultRecorded>(e => ArchiveSeriesResult.IdOf(SeriesOf(e), e.ResultType, e.Name));
    }

    private static Guid SeriesOf(SeriesResultRecorded e) =>
        ArchiveKeys.Series(ArchiveKeys.Study(e.StudyStreamId, e.Project, e.Archive), e.ArchiveSeriesUid);

    public static ArchiveSeriesResult Create(SeriesResultRecorded recorded) => new()
    {
        Id = ArchiveSeriesResult.IdOf(SeriesOf(recorded), recorded.ResultType, recorded.Name),
        ArchiveSeriesId = SeriesOf(recorded),
        ResultType = recorded.ResultType,
        Name = recorded.Name,
        Algorithm = recorded.Algorithm,
        Value = recorded.Value,
        File = recorded.File,
        FileName = recorded.FileName,
        RecordedAt = recorded.RecordedAt,
    };

    public ArchiveSeriesResult Apply(SeriesResultRecorded recorded, ArchiveSeriesResult _) => Create(recorded);
}

/// <summary>One ArchiveFormEntry per submission.</summary>
public partial class ArchiveFormEntryProjection : MultiStreamProjection<ArchiveFormEntry, Guid>
{
    public ArchiveFormEntryProjection()
    {
        Identity<SeriesFormSubmitted>(e => e.SubmissionId);
    }

    public static ArchiveFormEntry Create(SeriesFormSubmitted submitted) => new()
    {
        Id = submitted.SubmissionId,
        ArchiveSeriesId = ArchiveKeys.Series(ArchiveKeys.Study(submitted.StudyStreamId, submitted.Project, submitted.Archive), submitted.ArchiveSeriesUid),
        ArchiveSeriesUid = submitted.ArchiveSeriesUid,
        FormName = submitted.FormName,
        Entry = submitted.Entry,
        SubmittedBy = submitted.SubmittedBy.Subject,
        SubmittedAt = submitted.SubmittedAt,
    };
}
