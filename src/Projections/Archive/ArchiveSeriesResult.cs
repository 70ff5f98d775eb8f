using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;
using Marten.Events.Projections;

namespace EventSourced.Projections.Archive;

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
