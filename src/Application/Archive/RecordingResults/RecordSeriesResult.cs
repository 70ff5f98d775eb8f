using System.Text.Json;
using EventSourced.Application.Common;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Application.Archive.RecordingResults;

/// <summary>Record an algorithm result (the producing side, e.g. the AI pipeline) for a series filed in a project's archive.</summary>
public sealed record RecordSeriesResult(
    ArchivePlacement Placement,
    string StudyInstanceUid,
    string SeriesUid,
    string ResultType,
    string Name,
    string Algorithm,
    JsonElement? Value,
    BlobRef? File,
    string? FileName,
    Actor By);

public static class RecordSeriesResultHandler
{
    public static async Task<CommandResult<SeriesResultRecorded>> Handle(
        RecordSeriesResult command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var streamId = Study.StreamId(session.TenantId, command.StudyInstanceUid);
        var stream = await session.Events.FetchForWriting<Study>(streamId, cancellation);
        if (ArchiveSeriesDecisions.SeriesFiled(stream.Aggregate, command.Placement, null, command.SeriesUid) is { } rejected)
        {
            return CommandResult<SeriesResultRecorded>.Reject(rejected);
        }

        var recorded = new SeriesResultRecorded(
            streamId, command.Placement.Project, command.Placement.Archive, command.StudyInstanceUid, command.SeriesUid,
            command.ResultType, command.Name, command.Algorithm, command.Value, command.File, command.FileName, command.By, clock.GetUtcNow());
        stream.AppendOne(recorded);
        return CommandResult<SeriesResultRecorded>.Ok(recorded);
    }
}
