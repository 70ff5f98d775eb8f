using System.Globalization;
using System.Reflection;
using System.Security.Claims;
using System.Text.Json;
using Carter;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Orders;
using EventSourced.Projections.Qido;
using EventSourced.Projections.StudyFeed;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using JasperFx.Events;
using Marten;

namespace EventSourced.Web.Admin;

/// <summary>
/// Our own audit routes (scope <c>audit.read</c>): the history of a study, a patient and an order, each
/// change with what, when, who, channel, reason and the request's correlation id; and the state of a
/// study or an order as of a time, folded from the log by Marten (<c>AggregateStreamAsync</c> with a
/// timestamp) in a query session, so reading the past never writes anything (docs/api-compatibility.md, "Audit").
/// </summary>
public sealed class AuditModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/audit").WithTags("Audit").RequireAuthorization(Scopes.AuditRead);
        group.MapGet("/studies/{studyUid}/history", StudyHistory).WithName("AuditStudyHistory").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/patients/{patientId}/history", PatientHistory).WithName("AuditPatientHistory").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/orders/{orderId:guid}/history", OrderHistory).WithName("AuditOrderHistory").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/studies/{studyUid}", StudyAsOf).WithName("AuditStudyAsOf").ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/orders/{orderId:guid}", OrderAsOf).WithName("AuditOrderAsOf").ProducesProblem(StatusCodes.Status400BadRequest);
    }

    private static async Task<IResult> StudyHistory(string studyUid, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.QuerySessionForCaller(user);
        var changes = await StudyChangesAsync(store, session, [studyUid], cancellation);
        return changes.Count == 0 ? Problems.NotFound($"No history for study {studyUid} (yet).") : TypedResults.Ok(changes);
    }

    /// <summary>The patient's orders (every event of each) and the studies stored under the PatientID (their feed entries), in log order.</summary>
    private static async Task<IResult> PatientHistory(string patientId, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.QuerySessionForCaller(user);
        var orderIds = await session.Query<OrderSummary>().Where(x => x.PatientId == patientId).Select(x => x.Id).ToListAsync(cancellation);
        var studies = await session.Query<QidoStudy>().Where(x => x.PatientId == patientId).Select(x => x.StudyInstanceUid).ToListAsync(cancellation);
        var changes = new List<AuditChange>(await StudyChangesAsync(store, session, [.. studies], cancellation));
        foreach (var orderId in orderIds)
        {
            changes.AddRange((await session.Events.FetchStreamAsync(orderId, token: cancellation)).Select(Describe));
        }

        changes = [.. changes.DistinctBy(c => (c.Sequence, c.StudyInstanceUid)).OrderBy(c => c.Sequence)];
        return changes.Count == 0 ? Problems.NotFound($"No history for patient {patientId}.") : TypedResults.Ok(changes);
    }

    private static async Task<IResult> OrderHistory(Guid orderId, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.QuerySessionForCaller(user);
        var events = await session.Events.FetchStreamAsync(orderId, token: cancellation);
        return events.Count == 0 ? Problems.NotFound($"No order {orderId}.") : TypedResults.Ok(events.Select(Describe).ToList());
    }

    private static async Task<IResult> StudyAsOf(string studyUid, HttpRequest request, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        if (!TryAsOf(request, out var asOf, out var problem))
        {
            return problem;
        }

        await using var session = store.QuerySessionForCaller(user);
        var study = await session.Events.AggregateStreamAsync<Study>(Study.StreamId(user.TenantId(), studyUid), timestamp: asOf, token: cancellation);
        if (study is null)
        {
            return Problems.NotFound($"No study {studyUid} as of {asOf:O}.");
        }

        return TypedResults.Ok(new StudyAsOfState(
            study.StudyInstanceUid,
            asOf,
            [.. study.Instances.GroupBy(i => i.Value.SeriesInstanceUid).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new SeriesAsOf(g.Key, [.. g.OrderBy(i => i.Key, StringComparer.Ordinal).Select(i => new InstanceAsOf(i.Key, i.Value.Sha256, i.Value.StoredAt))]))]));
    }

    private static async Task<IResult> OrderAsOf(Guid orderId, HttpRequest request, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        if (!TryAsOf(request, out var asOf, out var problem))
        {
            return problem;
        }

        await using var session = store.QuerySessionForCaller(user);
        var order = await session.Events.AggregateStreamAsync<Order>(orderId, timestamp: asOf, token: cancellation);
        return order is null
            ? Problems.NotFound($"No order {orderId} as of {asOf:O}.")
            : TypedResults.Ok(new OrderAsOfState(order.Id, order.StudyInstanceUid, asOf, order.Status.ToString(), [.. order.PresentMetadata.Order()], order.MetadataDueBy));
    }

    private static async Task<List<AuditChange>> StudyChangesAsync(IDocumentStore store, IQuerySession session, string[] studies, CancellationToken cancellation)
    {
        if (studies.Length == 0)
        {
            return [];
        }

        var settled = await StudyFeedReader.SettledThroughAsync(store, cancellation);
        var entries = await StudyFeedReader.ForStudiesAsync(session, settled, studies, cancellation);
        return [.. entries.Select(e => new AuditChange(
            e.Sequence, e.StreamVersion, e.EventType, e.Kind.ToString(), e.StudyInstanceUid, e.SeriesInstanceUid, e.SopInstanceUid,
            e.OccurredAt, e.Subject, e.Channel ?? e.Via, e.Reason, e.CorrelationId, e.Details))];
    }

    /// <summary>
    /// Any event described the same way: who is its <see cref="Actor"/>, when its first <c>…At</c> time
    /// (the business time; the store's timestamp when it has none), the reason its <c>Reason</c>/<c>Detail</c>.
    /// </summary>
    private static AuditChange Describe(IEvent e)
    {
        var properties = e.Data.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance);
        var actor = properties.Where(p => p.PropertyType == typeof(Actor)).Select(p => p.GetValue(e.Data) as Actor).FirstOrDefault(a => a is not null);
        var at = properties.Where(p => p.PropertyType == typeof(DateTimeOffset) && p.Name.EndsWith("At", StringComparison.Ordinal))
            .Select(p => (DateTimeOffset?)p.GetValue(e.Data)).FirstOrDefault() ?? e.Timestamp;
        var reason = string.Join(": ", properties.Where(p => p.Name is "Reason" or "Detail").Select(p => p.GetValue(e.Data)?.ToString()).Where(v => !string.IsNullOrEmpty(v)));
        var study = properties.FirstOrDefault(p => p.Name == "StudyInstanceUid")?.GetValue(e.Data) as string
            ?? (e.Data as OrderCreated)?.Details.StudyInstanceUid;
        return new AuditChange(
            e.Sequence, e.Version, e.EventTypeName, e.Data.GetType().Name, study, null, null, at,
            actor?.Subject ?? "", actor?.Via ?? "", reason.Length == 0 ? null : reason, e.CorrelationId, new Dictionary<string, string>());
    }

    private static bool TryAsOf(HttpRequest request, out DateTimeOffset asOf, out IResult problem)
    {
        problem = Results.Empty;
        if (DateTimeOffset.TryParse(request.Query["asOf"].ToString(), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out asOf))
        {
            return true;
        }

        problem = Problems.BadRequest("asOf is required: a date and time (ISO 8601, e.g. 2026-12-04T10:00:00Z).");
        return false;
    }
}

/// <param name="Sequence">The event's global sequence number (the study feed's offset id).</param>
/// <param name="Via">The channel: how instances arrived, or the API or component of the actor.</param>
public sealed record AuditChange(
    long Sequence,
    long Version,
    string EventType,
    string What,
    string? StudyInstanceUid,
    string? SeriesInstanceUid,
    string? SopInstanceUid,
    DateTimeOffset At,
    string Who,
    string Via,
    string? Reason,
    string? CorrelationId,
    IReadOnlyDictionary<string, string> Details);

public sealed record StudyAsOfState(string StudyInstanceUid, DateTimeOffset AsOf, IReadOnlyList<SeriesAsOf> Series);

public sealed record SeriesAsOf(string SeriesInstanceUid, IReadOnlyList<InstanceAsOf> Instances);

public sealed record InstanceAsOf(string SopInstanceUid, string Sha256, DateTimeOffset StoredAt);

public sealed record OrderAsOfState(Guid OrderId, string StudyInstanceUid, DateTimeOffset AsOf, string Status, IReadOnlyList<string> PresentMetadata, DateTimeOffset MetadataDueBy);
