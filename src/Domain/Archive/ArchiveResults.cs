using System.Text.Json;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Domain.Archive;

/// <summary>Document d's result types (<c>Type</c> of <c>series/results</c>).</summary>
public static class ArchiveResultTypes
{
    public const string Cad4tb = "cad4tb";
    public const string Retina = "retina";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Cad4tb, Retina };
}

/// <summary>
/// An algorithm result for a series in a project's archive (document d, "Get algorithm results"): a
/// scalar (<paramref name="Value"/>: a JSON number or string) or a file (<paramref name="File"/>, a
/// blob, with its name). A later result of the same type and name replaces it.
/// </summary>
public sealed record SeriesResultRecorded(
    Guid StudyStreamId,
    string Project,
    string Archive,
    string StudyInstanceUid,
    string ArchiveSeriesUid,
    string ResultType,
    string Name,
    string Algorithm,
    JsonElement? Value,
    BlobRef? File,
    string? FileName,
    Actor RecordedBy,
    DateTimeOffset RecordedAt);

/// <summary>
/// A reporting form submitted for a series (document d, "Add reportings"). <paramref name="Entry"/> is the
/// submitted JSON text, validated, kept as text so its members keep the order they were submitted in.
/// </summary>
public sealed record SeriesFormSubmitted(
    Guid StudyStreamId,
    Guid SubmissionId,
    string Project,
    string Archive,
    string StudyInstanceUid,
    string ArchiveSeriesUid,
    string FormName,
    string Entry,
    Actor SubmittedBy,
    DateTimeOffset SubmittedAt)
{
    /// <summary>A form entry may hold anything about the patient: erasure empties it.</summary>
    public SeriesFormSubmitted WithPersonalDataErased() => this with { Entry = JsonSerializer.Serialize(Orders.OrderDetails.Erased) };
}

public static class ArchiveSeriesDecisions
{
    /// <summary>The series as document d names it must be filed in the archive, under this patient when one is given.</summary>
    public static Rejection? SeriesFiled(Study? study, ArchivePlacement placement, string? patientId, string seriesKey) =>
        study is not null
        && study.Archives.TryGetValue(placement.Key, out var filing)
        && (patientId is null || filing.PatientId == patientId)
        && filing.SeriesKeys.Contains(seriesKey)
            ? null
            : Rejection.NotFound($"No series '{seriesKey}' of this study in this project's archive.");
}
