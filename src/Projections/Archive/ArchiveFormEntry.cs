using EventSourced.Domain.Archive;
using Marten.Events.Projections;

namespace EventSourced.Projections.Archive;

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
