using JasperFx.Events.Grouping;
using EventSourced.Domain.Archive;
using Marten.Events.Projections;

namespace EventSourced.Projections.Archive;

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

/// <summary>
/// One ArchiveStudy per (study stream, Project, Archive). Deterministic (payload times, sorted lists), so a
/// rebuild reproduces it. The PatientID is the one the study was first filed under: the decision refuses
/// a different one (ArchiveDecisions.File).
/// </summary>
public partial class ArchiveStudyProjection : MultiStreamProjection<ArchiveStudy, Guid>
{
    public ArchiveStudyProjection()
    {
        // A new instance's filing travels in its InstanceStored or InstancesStored (FiledIn); projected as the same child.
        FanOut<Domain.Studies.InstanceStored, InstanceFiledInArchive>(e => e.Filings(), FanoutMode.BeforeGrouping);
        FanOut<Domain.Studies.InstancesStored, InstanceFiledInArchive>(e => e.Filings(), FanoutMode.BeforeGrouping);
        Identity<InstanceFiledInArchive>(e => ArchiveKeys.Study(e.StudyStreamId, e.Project, e.Archive));
        Identities<Domain.Studies.InstanceErased>(e => [.. e.Archives.Select(a => ArchiveKeys.Study(e.StudyStreamId, a.Project, a.Archive))]);
        RouteVisibility();
        RouteSeriesMoves();
        CustomGrouping(FanOutChildren.KeepEvery);
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
        Series = OrdinalSet.With(study.Series, filed.ArchiveSeriesUid),
        NumberOfInstances = study.NumberOfInstances + 1,
        LastFiledAt = filed.FiledAt,
    };
}
