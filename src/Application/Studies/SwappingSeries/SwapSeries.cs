using EventSourced.Application.Common;
using EventSourced.Application.Patients;
using EventSourced.Domain.Common;
using EventSourced.Domain.Corrections;
using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Application.Studies.SwappingSeries;

/// <summary>Document e <c>studies/swap</c>: the series of the source join the target and those of the target join the source; each study keeps its own attributes and patient.</summary>
public sealed record SwapSeries(string SourceStudyInstanceUid, string TargetStudyInstanceUid, string UserName, Actor By);

public static class SwapSeriesHandler
{
    public static async Task<CommandResult<CorrectionResponse>> Handle(
        SwapSeries command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var (source, target) = (command.SourceStudyInstanceUid, command.TargetStudyInstanceUid);
        var moves = new SeriesMoves(session, cancellation);
        await moves.LockAsync(source, target);
        foreach (var uid in new[] { source, target })
        {
            if (moves.StudyOf(uid) is not { } study || study.VisibleSeries.Count == 0)
            {
                return CommandResult<CorrectionResponse>.Reject(Rejection.NotFound($"Study {uid} not found."));
            }
        }

        var (a, b) = (moves.StudyOf(source)!, moves.StudyOf(target)!);
        if (SeriesMoves.Pending(a, b) is { } pending)
        {
            return CommandResult<CorrectionResponse>.Reject(pending);
        }

        var correctionId = Guid.CreateVersion7(now);
        var there = await moves.DecideAsync(source, target, a.VisibleSeries, null, null, SeriesRefilingReason.Swapped, correctionId, command.By, now);
        var back = await moves.DecideAsync(target, source, b.VisibleSeries, null, null, SeriesRefilingReason.Swapped, correctionId, command.By, now);
        moves.Append([there, back]);
        session.Events.StartStream<Correction>(correctionId, new CorrectionRecorded(
            correctionId, CorrectionKind.StudySwap, [], null, command.UserName, null, command.By, now)
        {
            SeriesMoves =
            [
                new SeriesMove(source, target, there.In.SeriesInstanceUids, null),
                new SeriesMove(target, source, back.In.SeriesInstanceUids, null),
            ],
        });
        return CommandResult<CorrectionResponse>.Ok(new(correctionId));
    }
}
