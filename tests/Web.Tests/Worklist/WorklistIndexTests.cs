using EventSourced.Domain.Orders;
using EventSourced.Projections.Orders;
using EventSourced.Web.Shared.Worklist;
using EventSourced.Web.Tests.Support;
using Marten;

namespace EventSourced.Web.Tests.Worklist;

/// <summary>
/// The statements of the worklists' filters are served by indexes, so each reads the orders it answers rather than
/// every order the tenant ever had (docs/benchmarks.md, "Queries that grew
/// with the archive"). Each query is the shape its module sends, planned on a copy of its table grown to 20,000 rows
/// of one tenant: without the index the planner has only a scan of the tenant's rows.
/// </summary>
public sealed class WorklistIndexTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "worklist-indexes";
    private const int Rows = 20_000;

    /// <summary>Orders as the archive accumulates them: one in 100 still active, the others completed (Marten stores enums as strings).</summary>
    private const string Orders =
        "jsonb_build_object('Status', case when n % 100 = 0 then 'Scheduled' else 'Completed' end, " +
        "'ProcedureStepState', case when n % 100 = 0 then 'Scheduled' else 'Completed' end, 'AccessionNumber', 'ACC-' || n)";

    private static void AssertIndexed(string plan, string member) => QueryPlans.AssertServedByIndexOn(plan, $"(data ->> '{member}'::text)");

    [Fact]
    public async Task Document_c_active_workitems_are_read_through_the_status_index()
    {
        await using var session = fixture.App.Store.QuerySession(Tenant);
        // WorkitemsModule.ListAsync without patientID.
        var active = session.Query<OrderSummary>().Where(x =>
            x.Status == OrderStatus.Scheduled || x.Status == OrderStatus.ImagesArriving
            || x.Status == OrderStatus.ReadyForProcessing || x.Status == OrderStatus.ReportAvailable);

        AssertIndexed(await QueryPlans.OnGrownCopyAsync(active, fixture.ConnectionString, "eventsourced.mt_doc_ordersummary", Tenant, Rows, Orders), nameof(OrderSummary.Status));
    }

    [Fact]
    public async Task UPS_RS_search_by_state_and_by_accession_number_is_read_through_their_indexes()
    {
        await using var session = fixture.App.Store.QuerySession(Tenant);
        // The search UpsModule sends, with a procedure step state, and with an accession number.
        var scheduled = WorklistQueries.Search(session, new WorkitemSearch(null, null, null, ProcedureStepState.Scheduled, null, null, null)).Take(101);
        var byAccession = WorklistQueries.Search(session, new WorkitemSearch(null, null, null, null, "ACC-7", null, null)).Take(101);

        AssertIndexed(await QueryPlans.OnGrownCopyAsync(scheduled, fixture.ConnectionString, "eventsourced.mt_doc_ordersummary", Tenant, Rows, Orders), nameof(OrderSummary.ProcedureStepState));
        AssertIndexed(await QueryPlans.OnGrownCopyAsync(byAccession, fixture.ConnectionString, "eventsourced.mt_doc_ordersummary", Tenant, Rows, Orders), nameof(OrderSummary.AccessionNumber));
    }

    [Fact]
    public async Task UPS_RS_search_without_a_filter_or_by_scheduled_start_reads_its_page_from_the_scheduled_start_index()
    {
        await using var session = fixture.App.Store.QuerySession(Tenant);
        var everything = WorklistQueries.Search(session, new WorkitemSearch(null, null, null, null, null, null, null)).Take(101);
        var inRange = WorklistQueries.Search(session, new WorkitemSearch(null, null, ("20261101000000", "20261101235959"), null, null, null, null)).Take(101);

        // Without a filter: the first page walked off the index in worklist order (ties sorted), not every order sorted.
        var all = await QueryPlans.OnGrownCopyAsync(everything, fixture.ConnectionString, "eventsourced.mt_doc_ordersummary", Tenant, Rows, Scheduled);
        Assert.DoesNotContain("Seq Scan", all);
        Assert.Contains("Index Scan using", all);
        Assert.Contains("Presorted Key: ((data ->> 'ScheduledStartDateTime'::text))", all);
        AssertIndexed(await QueryPlans.OnGrownCopyAsync(inRange, fixture.ConnectionString, "eventsourced.mt_doc_ordersummary", Tenant, Rows, Scheduled), nameof(OrderSummary.ScheduledStartDateTime));
    }

    /// <summary>Orders scheduled over 200 days, 100 a day, all completed.</summary>
    private const string Scheduled =
        "jsonb_build_object('Status', 'Completed', 'ProcedureStepState', 'Completed', 'CreatedAt', now(), " +
        "'ScheduledStartDateTime', to_char(date '2026-06-01' + (n / 100), 'YYYYMMDD') || lpad((n % 100)::text, 6, '0'))";
}
