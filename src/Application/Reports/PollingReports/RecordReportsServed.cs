using EventSourced.Domain.Common;
using EventSourced.Domain.Reports;
using Marten;

namespace EventSourced.Application.Reports.PollingReports;

/// <summary>
/// Document a, <c>GET /reports</c>: the poll answered this page to the caller (<see cref="Actor.Subject"/>);
/// the record is what a bodiless <c>POST /reports</c> acknowledges.
/// </summary>
public sealed record RecordReportsServed(IReadOnlyList<Guid> ReportIds, bool NextPage, Actor To);

public static class RecordReportsServedHandler
{
    /// <summary>Locks the caller's poller stream: two polls of one caller at once are recorded one after the other.</summary>
    public static async Task Handle(RecordReportsServed command, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var pollerId = ReportPoller.StreamId(session.TenantId, command.To.Subject);
        var stream = await session.Events.FetchForExclusiveWriting<ReportPoller>(pollerId, cancellation);
        if (ReportPoller.Serve(stream.Aggregate, pollerId, command.ReportIds, command.NextPage, command.To, clock.GetUtcNow()) is { } served)
        {
            stream.AppendOne(served);
        }
    }
}
