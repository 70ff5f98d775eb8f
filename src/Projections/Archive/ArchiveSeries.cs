using JasperFx.Events.Grouping;
using EventSourced.Domain.Archive;
using Marten.Events.Projections;

namespace EventSourced.Projections.Archive;

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

/// <summary>One ArchiveSeries per (ArchiveStudy, document d series key).</summary>
public partial class ArchiveSeriesProjection : MultiStreamProjection<ArchiveSeries, Guid>
{
    public ArchiveSeriesProjection()
    {
        // A new instance's filing travels in its InstanceStored or InstancesStored (FiledIn); projected as the same child.
        FanOut<Domain.Studies.InstanceStored, InstanceFiledInArchive>(e => e.Filings(), FanoutMode.BeforeGrouping);
        FanOut<Domain.Studies.InstancesStored, InstanceFiledInArchive>(e => e.Filings(), FanoutMode.BeforeGrouping);
        Identity<InstanceFiledInArchive>(e => SeriesId(e));
        Identities<Domain.Studies.InstanceErased>(e =>
            [.. e.Archives.Select(a => ArchiveKeys.Series(ArchiveKeys.Study(e.StudyStreamId, a.Project, a.Archive), e.ArchiveSeriesUid))]);
        RouteVisibility();
        RouteSeriesMoves();
        CustomGrouping(FanOutChildren.KeepEvery);
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

    public ArchiveSeries Apply(InstanceFiledInArchive filed, ArchiveSeries series) => Append(filed, series);

    private static ArchiveSeries Append(InstanceFiledInArchive filed, ArchiveSeries series) => series with
    {
        Instances = OrdinalSet.With(series.Instances, filed.SopInstanceUid),
        LastFiledAt = filed.FiledAt,
    };
}
