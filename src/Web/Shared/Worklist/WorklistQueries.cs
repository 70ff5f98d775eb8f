using EventSourced.Domain.Orders;
using EventSourced.Projections.Orders;
using EventSourced.Web.Shared.Qido;
using Marten;
using Marten.Linq.MatchesSql;

namespace EventSourced.Web.Shared.Worklist;

/// <summary>The worklist is the order read model seen as workitems: every order, whichever dialect made it.</summary>
public static class WorklistQueries
{
    /// <summary>The order behind a UPS SOP Instance UID; deleted orders are gone from the worklist.</summary>
    public static Task<OrderSummary?> ByWorkitemUidAsync(IQuerySession session, string workitemUid, CancellationToken cancellation) =>
        session.Query<OrderSummary>()
            .Where(x => x.WorkitemUid == workitemUid && x.Status != OrderStatus.Deleted)
            .FirstOrDefaultAsync(cancellation);

    /// <summary>Whether any order, even a deleted one, holds the UPS SOP Instance UID (a UID names one workitem forever).</summary>
    public static Task<bool> WorkitemUidTakenAsync(IQuerySession session, string workitemUid, CancellationToken cancellation) =>
        session.Query<OrderSummary>().AnyAsync(x => x.WorkitemUid == workitemUid, cancellation);

    /// <summary>Ordered by scheduled start, then creation: the order a modality works a worklist in.</summary>
    public static IOrderedEnumerable<OrderSummary> InWorklistOrder(this IEnumerable<OrderSummary> orders) =>
        orders.OrderBy(x => x.ScheduledStartDateTime, StringComparer.Ordinal).ThenBy(x => x.CreatedAt).ThenBy(x => x.Id);

    /// <summary>
    /// UPS-RS search (PS3.18 §11.9): the orders that match, in worklist order, one page of them, and whether more match.
    /// The matching, the order and the page are the database's (the scheduled start is indexed, so a page is read from
    /// the index, its ties sorted): a search reads and holds the page, never every order the tenant ever had
    /// (docs/benchmarks.md, "Queries that grew with the archive", item 4). Single values match exactly; <c>*</c> and
    /// <c>?</c> are wildcards (LIKE); the patient's name is matched without regard to case; the scheduled start range
    /// is compared as text (DT values: digits, padded by the caller).
    /// </summary>
    public static async Task<(IReadOnlyList<OrderSummary> Page, bool More)> SearchAsync(
        IQuerySession session, WorkitemSearch search, int offset, int limit, CancellationToken cancellation)
    {
        var rows = await Search(session, search).Skip(offset).Take(limit + 1).ToListAsync(cancellation);
        return (rows.Count > limit ? [.. rows.Take(limit)] : rows, rows.Count > limit);
    }

    /// <summary><see cref="SearchAsync"/>'s query before its page is cut: the matching orders in worklist order.</summary>
    public static IQueryable<OrderSummary> Search(IQuerySession session, WorkitemSearch search)
    {
        var query = session.Query<OrderSummary>().Where(x => x.Status != OrderStatus.Deleted);
        if (search.PatientId is { } patientId)
        {
            query = QidoQuery.HasWildcard(patientId)
                ? query.Where(x => x.MatchesSql("d.data ->> 'PatientId' like ?", QidoQuery.Like(patientId)))
                : query.Where(x => x.PatientId == patientId);
        }

        if (search.PatientName is { } name)
        {
            query = QidoQuery.HasWildcard(name)
                ? query.Where(x => x.MatchesSql("upper(d.data -> 'Details' ->> 'PatientName') like upper(?)", QidoQuery.Like(name)))
                : query.Where(x => x.MatchesSql("upper(d.data -> 'Details' ->> 'PatientName') = upper(?)", name));
        }

        if (search.AccessionNumber is { } accession)
        {
            query = QidoQuery.HasWildcard(accession)
                ? query.Where(x => x.MatchesSql("d.data ->> 'AccessionNumber' like ?", QidoQuery.Like(accession)))
                : query.Where(x => x.AccessionNumber == accession);
        }

        if (search.StudyInstanceUid is { } studyUid)
        {
            query = query.Where(x => x.StudyInstanceUid == studyUid);
        }

        if (search.WorkitemUid is { } workitemUid)
        {
            query = query.Where(x => x.WorkitemUid == workitemUid);
        }

        if (search.State is { } state)
        {
            query = query.Where(x => x.ProcedureStepState == state);
        }

        if (search.ScheduledStart is { } range)
        {
            query = query.Where(x => x.MatchesSql("d.data ->> 'ScheduledStartDateTime' between ? and ?", range.Low, range.High));
        }

        return query.OrderBy(x => x.ScheduledStartDateTime).ThenBy(x => x.CreatedAt).ThenBy(x => x.Id);
    }
}

/// <summary>A UPS-RS search's matching keys (null: not matched on); <see cref="ScheduledStart"/> the inclusive DT range, padded.</summary>
public sealed record WorkitemSearch(
    string? PatientId, string? PatientName, (string Low, string High)? ScheduledStart, ProcedureStepState? State,
    string? AccessionNumber, string? StudyInstanceUid, string? WorkitemUid);
