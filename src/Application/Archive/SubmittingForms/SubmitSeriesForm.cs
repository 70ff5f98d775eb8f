using EventSourced.Application.Common;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Application.Archive.SubmittingForms;

/// <summary>Document d, "Add reportings": a submission of a configured form for a series of the patient.</summary>
public sealed record SubmitSeriesForm(
    ArchivePlacement Placement,
    string PatientId,
    string StudyInstanceUid,
    string SeriesUid,
    string FormName,
    string Entry,
    Actor By);

public static class SubmitSeriesFormHandler
{
    public static async Task<CommandResult<SeriesFormSubmitted>> Handle(
        SubmitSeriesForm command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var streamId = Study.StreamId(session.TenantId, command.StudyInstanceUid);
        var stream = await session.Events.FetchForWriting<Study>(streamId, cancellation);
        if (ArchiveSeriesDecisions.SeriesFiled(stream.Aggregate, command.Placement, command.PatientId, command.SeriesUid) is { } rejected)
        {
            return CommandResult<SeriesFormSubmitted>.Reject(rejected);
        }

        var submitted = new SeriesFormSubmitted(
            streamId, Guid.CreateVersion7(), command.Placement.Project, command.Placement.Archive, command.StudyInstanceUid,
            command.SeriesUid, command.FormName, command.Entry, command.By, clock.GetUtcNow());
        stream.AppendOne(submitted);
        return CommandResult<SeriesFormSubmitted>.Ok(submitted);
    }
}

/// <summary>Document d's reporting forms: the names a FormName may take (configuration <c>Archive:Forms</c>).</summary>
public sealed class ArchiveOptions
{
    public const string Section = "Archive";

    public List<string> Forms { get; set; } = [];

    /// <summary>
    /// The configured form a FormName names: the exact name, else the one name equal to it without regard
    /// to case. Null with <paramref name="ambiguous"/> false: no such form; with it true: several match.
    /// </summary>
    public string? Resolve(string formName, out bool ambiguous)
    {
        ambiguous = false;
        if (Forms.Contains(formName, StringComparer.Ordinal))
        {
            return formName;
        }

        var matches = Forms.Where(f => f.Equals(formName, StringComparison.OrdinalIgnoreCase)).Distinct(StringComparer.Ordinal).ToList();
        ambiguous = matches.Count > 1;
        return matches.Count == 1 ? matches[0] : null;
    }
}
