using System.Collections.Immutable;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Reports;

/// <summary>
/// What document a's batch poll (<c>GET /reports</c>) served to one caller (a subject of a tenant). A poll
/// without a cursor starts a new round; each following page (with the cursor of the page before) adds to
/// it. A <c>POST /reports</c> without a body acknowledges exactly this round, so a report delivered
/// after the caller's last poll is never acknowledged unseen.
/// </summary>
/// <param name="NextPage">True when this page continued the round (the poll carried a cursor).</param>
public sealed record ReportsServedToPoller(
    Guid PollerId,
    IReadOnlyList<Guid> ReportIds,
    bool NextPage,
    Actor ServedTo,
    DateTimeOffset ServedAt);

/// <summary>One stream per tenant and subject, keyed by a name-based Guid; its state is the current round.</summary>
public sealed record ReportPoller(Guid Id, ImmutableList<Guid> Served)
{
    private static readonly Guid Namespace = new("3f9b6c1d-7a2e-4d58-b0c4-61e2a9d7f805");

    public static Guid StreamId(string tenantId, string subject) => DeterministicGuid.ForTenant(Namespace, tenantId, subject);

    public static ReportPoller Create(ReportsServedToPoller served) => new(served.PollerId, [.. served.ReportIds.Distinct()]);

    public ReportPoller Apply(ReportsServedToPoller served) => this with
    {
        Served = served.NextPage ? Served.AddRange(served.ReportIds.Where(id => !Served.Contains(id))) : [.. served.ReportIds.Distinct()],
    };

    /// <summary>
    /// Records a served page, or nothing when it would change nothing: an empty first page after an empty
    /// round, or a next page listing only reports the round already holds (the caller repeated a page).
    /// </summary>
    public static ReportsServedToPoller? Serve(
        ReportPoller? poller, Guid pollerId, IReadOnlyList<Guid> reportIds, bool nextPage, Actor to, DateTimeOffset now)
    {
        var served = poller?.Served ?? [];
        var unchanged = nextPage
            ? reportIds.All(served.Contains)
            : served.Count == reportIds.Distinct().Count() && reportIds.All(served.Contains);
        return unchanged && (poller is not null || reportIds.Count == 0)
            ? null
            : new ReportsServedToPoller(pollerId, reportIds, nextPage, to, now);
    }
}
