using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Carter;
using EventSourced.Application.Blobs;
using EventSourced.Application.Reports;
using EventSourced.Application.Reports.AcknowledgingReports;
using EventSourced.Application.Reports.PollingReports;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Reports;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Orders;
using EventSourced.Projections.Reports;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using Marten;
using Marten.Linq.MatchesSql;
using Microsoft.Extensions.Options;
using Wolverine;

namespace EventSourced.Web.Reports;

/// <summary>
/// Document a: single-study results, group-study reports, and batch polling of unacknowledged reports
/// with its acknowledgement (docs/api-compatibility.md, "Document a: results and batch polling").
/// </summary>
public sealed class ReportsModule : ICarterModule
{
    private const string Via = "reports-api";
    private const int MaxAcknowledgedIds = 1000;

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Reports API: results").RequireAuthorization(Scopes.ReportsRead);

        group.MapGet("/results", GetResults)
            .WithName("GetResults")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapGet("/report", GetGroupReport)
            .WithName("GetStudyGroupReport")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapGet("/reports", Poll)
            .WithName("PollReports")
            .Produces<ReportPage>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        group.MapPost("/reports", Acknowledge)
            .WithName("AcknowledgeReports")
            .Accepts<AcknowledgementRequest>("application/json")
            .Produces<AcknowledgementBody>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }

    private static async Task<IResult> GetResults(
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "order_id")] string? orderId,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "study_uid")] string? studyUid,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "report_type")] string? reportType,
        HttpContext context,
        IDocumentStore store,
        IBlobStore blobs,
        CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(orderId) == string.IsNullOrWhiteSpace(studyUid))
        {
            return Problems.BadRequest("Give exactly one of the query parameters order_id and study_uid.");
        }

        if (ReportType(reportType) is { Error: { } invalid })
        {
            return invalid;
        }

        await using var session = store.QuerySessionForCaller(context.User);
        Guid id;
        if (!string.IsNullOrWhiteSpace(orderId))
        {
            if (!Guid.TryParse(orderId, out id) || await session.LoadAsync<OrderSummary>(id, cancellation) is null)
            {
                return Guid.TryParse(orderId, out _) ? Problems.NotFound($"No order {orderId}.") : Problems.BadRequest($"'{orderId}' is not an order id.");
            }
        }
        else
        {
            // "If multiple orders correspond to a study UID, only the most recent is returned" (as /status).
            var latest = await session.Query<OrderSummary>()
                .Where(x => x.StudyInstanceUid == studyUid && x.Status != OrderStatus.Deleted)
                .OrderByDescending(x => x.CreatedAt)
                .ThenByDescending(x => x.Id)
                .Select(x => x.Id)
                .ToListAsync(cancellation);
            if (latest.Count == 0)
            {
                return Problems.NotFound($"No order for StudyInstanceUID {studyUid}.");
            }

            id = latest[0];
        }

        var type = ReportType(reportType).Type!;
        var report = await session.LoadAsync<CurrentReport>(CurrentReport.Key(id, type), cancellation);
        return report is null
            ? Problems.NotFound($"Order {id} has no report of type '{type}'.")
            : Serve(context, blobs, report);
    }

    private static async Task<IResult> GetGroupReport(
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "study_group")] string? studyGroup,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "report_type")] string? reportType,
        HttpContext context,
        IDocumentStore store,
        IBlobStore blobs,
        CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(studyGroup))
        {
            return Problems.BadRequest("The study_group query parameter is required.");
        }

        if (ReportType(reportType) is { Error: { } invalid })
        {
            return invalid;
        }

        await using var session = store.QuerySessionForCaller(context.User);
        var type = ReportType(reportType).Type!;
        var report = await session.LoadAsync<CurrentReport>(CurrentReport.Key(StudyGroup.StreamId(session.TenantId, studyGroup), type), cancellation);
        return report is null
            ? Problems.NotFound($"Study group '{studyGroup}' has no report of type '{type}'.")
            : Serve(context, blobs, report);
    }

    private static async Task<IResult> Poll(
        string? organizationId,
        string? limit,
        string? cursor,
        ClaimsPrincipal user,
        IDocumentStore store,
        IMessageBus bus,
        IOptions<ReportOptions> options,
        CancellationToken cancellation)
    {
        if (Organization(organizationId, user) is { } refused)
        {
            return refused;
        }

        var pageSize = options.Value.DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > options.Value.MaxPageSize))
        {
            return Problems.Validation([("limit", $"limit must be a whole number from 1 to {options.Value.MaxPageSize}.")]);
        }

        if (cursor is not null && !CurrentReport.IsPollKey(cursor))
        {
            return Problems.Validation([("cursor", "cursor must be a next_cursor value of an earlier page.")]);
        }

        await using var session = store.QuerySessionForCaller(user);
        var page = await PendingPage(session, cursor, pageSize).ToListAsync(cancellation);
        var items = page.Take(pageSize).Select(PolledReport.From).ToList();
        var next = page.Count > pageSize ? page[pageSize - 1].PollKey : null;

        // What this caller was served is a fact of its own: a bodiless acknowledgement acknowledges exactly it.
        await bus.InvokeForCallerAsync(user, new RecordReportsServed([.. items.Select(r => r.ReportId)], cursor is not null, user.Actor(Via)), cancellation);
        return TypedResults.Ok(new ReportPage(organizationId!, items, next));
    }

    private static async Task<IResult> Acknowledge(
        string? organizationId,
        HttpRequest request,
        ClaimsPrincipal user,
        IDocumentStore store,
        IMessageBus bus,
        CancellationToken cancellation)
    {
        if (Organization(organizationId, user) is { } refused)
        {
            return refused;
        }

        var (ids, error) = await AcknowledgedIdsAsync(request, user, store, cancellation);
        if (ids is null)
        {
            return error!;
        }

        ids = [.. ids.Distinct()];
        List<CurrentReport> served;
        await using (var session = store.QuerySessionForCaller(user))
        {
            served = [.. await session.Query<CurrentReport>().Where(x => x.ReportId.IsOneOf(ids.ToArray())).ToListAsync(cancellation)];
        }

        var locations = served.Select(r => new ReportLocation(r.ReportId, r.OrderId, r.StudyGroupId)).ToList();
        var acknowledged = locations.Count == 0
            ? []
            : (await bus.InvokeForCallerAsync<ReportsAcknowledgedResponse>(user, new AcknowledgeReports(locations, user.Actor(Via)), cancellation)).Acknowledged;
        var done = acknowledged.ToHashSet();
        return TypedResults.Ok(new AcknowledgementBody(
            organizationId!,
            [.. ids.Where(done.Contains)],
            [.. ids.Where(id => !done.Contains(id))]));
    }

    /// <summary>
    /// A poll's page of pending reports after <paramref name="cursor"/>, in poll order, one more than the page (whether a
    /// next page exists). Pending in the words of the poll index's predicate (<see cref="ReportRegistration.PendingPredicate"/>:
    /// the planner reads a partial index only when the statement's condition implies it), so a round's first page reads
    /// the pending reports, not every acknowledged one before them.
    /// </summary>
    public static IQueryable<CurrentReport> PendingPage(IQuerySession session, string? cursor, int pageSize)
    {
        var pending = session.Query<CurrentReport>().Where(x => x.MatchesSql("d." + ReportRegistration.PendingPredicate));
        if (cursor is not null)
        {
            pending = pending.Where(x => x.MatchesSql($"d.{ReportRegistration.PollKeyColumn} > ?", cursor));
        }

        return pending.OrderBy(x => x.PollKey).Take(pageSize + 1);
    }

    /// <summary>
    /// The three forms clients send: no body (what this caller was last served by the poll), the poll's own
    /// answer echoed back (<c>reports[].report_id</c>), or <c>report_ids</c>
    /// (docs/api-compatibility.md, "Document a: acknowledgement forms").
    /// </summary>
    private static async Task<(List<Guid>? Ids, IResult? Error)> AcknowledgedIdsAsync(
        HttpRequest request, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        if (request.ContentLength == 0 || (request.ContentLength is null && !request.Headers.TransferEncoding.Any(v => !string.IsNullOrEmpty(v))))
        {
            return (await LastServedAsync(user, store, cancellation), null);
        }

        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation, allowEmpty: true);
        if (error is not null)
        {
            return (null, error);
        }

        if (document is null)
        {
            return (await LastServedAsync(user, store, cancellation), null);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.TryGetProperty("report_ids", out var array))
            {
                return Ids(array, item => item, minimum: 1);
            }

            if (root.TryGetProperty("reports", out var reports))
            {
                // An empty poll echoed back acknowledges nothing, and is no mistake.
                return Ids(reports, item => item.ValueKind == JsonValueKind.Object && item.TryGetProperty("report_id", out var id) ? id : item, minimum: 0);
            }

            return (null, Problems.Validation([("report_ids", $"Send no body, the poll's answer, or report_ids: an array of 1 to {MaxAcknowledgedIds} report ids.")]));
        }
    }

    private static (List<Guid>? Ids, IResult? Error) Ids(JsonElement array, Func<JsonElement, JsonElement> id, int minimum)
    {
        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() < minimum || array.GetArrayLength() > MaxAcknowledgedIds)
        {
            return (null, Problems.Validation([("report_ids", $"report_ids must be an array of {minimum} to {MaxAcknowledgedIds} report ids, as listed by GET /reports.")]));
        }

        var ids = new List<Guid>();
        foreach (var item in array.EnumerateArray())
        {
            var value = id(item);
            if (value.ValueKind != JsonValueKind.String || !Guid.TryParse(value.GetString(), out var parsed))
            {
                return (null, Problems.Validation([("report_ids", $"'{Shorten(value.GetRawText())}' is not a report id.")]));
            }

            ids.Add(parsed);
        }

        return (ids, null);
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    private static async Task<List<Guid>> LastServedAsync(ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.QuerySessionForCaller(user);
        var poller = await session.Events.AggregateStreamAsync<ReportPoller>(ReportPoller.StreamId(user.TenantId(), user.Subject()), token: cancellation);
        return poller is null ? [] : [.. poller.Served];
    }

    /// <summary>organizationId is the caller's own tenant: required (400), and another organization's is a 403.</summary>
    private static IResult? Organization(string? organizationId, ClaimsPrincipal user)
    {
        if (string.IsNullOrWhiteSpace(organizationId))
        {
            return Problems.Validation([("organizationId", "The organizationId query parameter is required.")]);
        }

        return organizationId != user.TenantId()
            ? Problems.Create(StatusCodes.Status403Forbidden, "Forbidden", $"The credential does not belong to organization '{organizationId}'.")
            : null;
    }

    private static (string? Type, IResult? Error) ReportType(string? reportType)
    {
        if (string.IsNullOrEmpty(reportType))
        {
            return (null, Problems.Validation([("report_type", "The report_type query parameter is required.")]));
        }

        return ReportContentTypes.NormaliseReportType(reportType) is { } type
            ? (type, null)
            : (null, Problems.Validation([("report_type", ReportContentTypes.ReportTypeRule)]));
    }

    /// <summary>The served version's bytes with its media type; which delivery it is travels in headers.</summary>
    private static IResult Serve(HttpContext context, IBlobStore blobs, CurrentReport report)
    {
        var content = report.Content!;
        var stream = blobs.OpenRead(content.Blob.Sha256);
        if (stream is null)
        {
            return Problems.Create(StatusCodes.Status500InternalServerError, "Internal Server Error", $"The content of report {report.ReportId} is missing from the blob store.");
        }

        context.Response.Headers["X-Report-Id"] = report.ReportId.ToString();
        context.Response.Headers["X-Report-Version"] = report.ReportVersion.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Stream(stream, content.MediaType, lastModified: report.DeliveredAt,
            entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{content.Blob.Sha256}\""));
    }
}

public sealed record AcknowledgementRequest([property: JsonPropertyName("report_ids")] IReadOnlyList<Guid> ReportIds);

/// <param name="Acknowledged">Ids this request acknowledged.</param>
/// <param name="NotPending">Ids that were not pending: already acknowledged, replaced by a later amendment, or unknown to the organization.</param>
public sealed record AcknowledgementBody(
    [property: JsonPropertyName("organization_id")] string OrganizationId,
    [property: JsonPropertyName("acknowledged")] IReadOnlyList<Guid> Acknowledged,
    [property: JsonPropertyName("not_pending")] IReadOnlyList<Guid> NotPending);

public sealed record ReportPage(
    [property: JsonPropertyName("organization_id")] string OrganizationId,
    [property: JsonPropertyName("reports")] IReadOnlyList<PolledReport> Reports,
    [property: JsonPropertyName("next_cursor")] string? NextCursor);

public sealed record PolledReport(
    [property: JsonPropertyName("report_id")] Guid ReportId,
    [property: JsonPropertyName("order_id")] Guid? OrderId,
    [property: JsonPropertyName("study_uid")] string? StudyUid,
    [property: JsonPropertyName("study_group")] string? StudyGroup,
    [property: JsonPropertyName("report_type")] string ReportType,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("media_type")] string MediaType,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("delivered_at")] DateTimeOffset DeliveredAt,
    [property: JsonPropertyName("url")] string Url)
{
    public static PolledReport From(CurrentReport r) => new(
        r.ReportId, r.OrderId, r.StudyInstanceUid, r.StudyGroup, r.ReportType, r.ReportVersion,
        r.Content!.MediaType, r.Content.Blob.Length, r.Content.Blob.Sha256, r.DeliveredAt,
        r.OrderId is { } order
            ? $"/results?order_id={order}&report_type={Uri.EscapeDataString(r.ReportType)}"
            : $"/report?study_group={Uri.EscapeDataString(r.StudyGroup!)}&report_type={Uri.EscapeDataString(r.ReportType)}");
}
