using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Carter;
using EventSourced.Application.Common;
using EventSourced.Application.Reports;
using EventSourced.Application.Reports.DeliveringReports;
using EventSourced.Application.Reports.GroupingStudies;
using EventSourced.Application.Reports.ReceivingReports;
using EventSourced.Domain.Reports;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Orders;
using EventSourced.Web.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Wolverine;

namespace EventSourced.Web.Reports;

/// <summary>
/// The producing side of reports (the AI pipeline or reporting system), our own routes: deliver a report
/// for an order or a study group, and group orders. The body is the report itself; its Content-Type says
/// what it is (docs/api-compatibility.md, "Reports: delivering").
/// </summary>
public sealed class ReportDeliveryModule : ICarterModule
{
    private const string Via = "reports-api";

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Reports: delivering");

        group.MapPost("/orders/{orderId}/reports", DeliverForOrder)
            .WithName("DeliverOrderReport")
            .RequireAuthorization(Scopes.ReportsWrite)
            .Accepts<object>("application/json", "application/pdf", "application/dicom")
            .Produces<ReportDeliveredBody>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        group.MapPost("/study-groups/{studyGroup}/reports", DeliverForStudyGroup)
            .WithName("DeliverStudyGroupReport")
            .RequireAuthorization(Scopes.ReportsWrite)
            .Accepts<object>("application/json", "application/pdf", "application/dicom")
            .Produces<ReportDeliveredBody>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        group.MapPost("/study-groups/{studyGroup}/orders", AddOrders)
            .WithName("AddOrdersToStudyGroup")
            .RequireAuthorization(Scopes.OrdersWrite)
            .Accepts<object>("application/json")
            .Produces<StudyGroupBody>()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> DeliverForOrder(
        string orderId,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "report_type")] string? reportType,
        HttpContext context,
        IDocumentStore store,
        IMessageBus bus,
        CancellationToken cancellation)
    {
        if (!Guid.TryParse(orderId, out var id))
        {
            return Problems.BadRequest($"'{orderId}' is not an order id.");
        }

        if (Check(context.Request, reportType) is { } invalid)
        {
            return invalid;
        }

        // The order's study: a DICOM report must belong to it. Looked up before the upload is read, so an
        // unknown order costs no bytes; the handler decides again on the stream itself.
        string studyUid;
        await using (var session = store.QuerySessionForCaller(context.User))
        {
            var summary = await session.LoadAsync<OrderSummary>(id, cancellation);
            if (summary is null)
            {
                return Problems.NotFound($"No order {orderId}.");
            }

            studyUid = summary.StudyInstanceUid;
        }

        return await DeliverAsync(context, bus, ReportRecipient.Order(id), reportType, studyUid,
            type => $"/results?order_id={id}&report_type={Uri.EscapeDataString(type)}", cancellation);
    }

    private static async Task<IResult> DeliverForStudyGroup(
        string studyGroup,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "report_type")] string? reportType,
        HttpContext context,
        IDocumentStore store,
        IMessageBus bus,
        CancellationToken cancellation)
    {
        studyGroup = GroupName(studyGroup);
        if (!StudyGroup.IsValidName(studyGroup))
        {
            return Problems.BadRequest($"A study group name is 1 to {StudyGroup.MaxNameLength} characters without control characters.");
        }

        if (Check(context.Request, reportType) is { } invalid)
        {
            return invalid;
        }

        await using (var session = store.QuerySessionForCaller(context.User))
        {
            var group = await session.Events.FetchStreamStateAsync(StudyGroup.StreamId(session.TenantId, studyGroup), cancellation);
            if (group is null)
            {
                return Problems.NotFound($"No study group '{studyGroup}': add orders to it first.");
            }
        }

        return await DeliverAsync(context, bus, ReportRecipient.Group(studyGroup), reportType, null,
            type => $"/report?study_group={Uri.EscapeDataString(studyGroup)}&report_type={Uri.EscapeDataString(type)}", cancellation);
    }

    /// <summary>Reads the report (a DICOM one must be of <paramref name="studyUid"/>), delivers it, answers 201 at <paramref name="location"/>.</summary>
    private static async Task<IResult> DeliverAsync(
        HttpContext context, IMessageBus bus, ReportRecipient recipient, string? reportType, string? studyUid, Func<string, string> location, CancellationToken cancellation)
    {
        var (content, failure) = await ReceiveAsync(context, studyUid, cancellation);
        if (content is null)
        {
            return failure!;
        }

        var result = await bus.InvokeForCallerAsync<CommandResult<ReportDeliveryResponse>>(
            context.User, new DeliverReport(recipient, ReportContentTypes.NormaliseReportType(reportType)!, content, context.User.Actor(Via)), cancellation);
        return result.Rejected is { } rejected
            ? Problems.From(rejected)
            : TypedResults.Created(location(result.Value!.ReportType), ReportDeliveredBody.From(result.Value));
    }

    private static async Task<IResult> AddOrders(string studyGroup, HttpRequest request, ClaimsPrincipal user, IMessageBus bus, CancellationToken cancellation)
    {
        studyGroup = GroupName(studyGroup);
        if (!StudyGroup.IsValidName(studyGroup))
        {
            return Problems.BadRequest($"A study group name is 1 to {StudyGroup.MaxNameLength} characters without control characters.");
        }

        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation);
        if (document is null)
        {
            return error!;
        }

        using (document)
        {
            var ids = new List<Guid>();
            if (!document.RootElement.TryGetProperty("order_ids", out var array) || array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0)
            {
                return Problems.Validation([("order_ids", "order_ids must be a non-empty array of order ids.")]);
            }

            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String || !Guid.TryParse(item.GetString(), out var orderId))
                {
                    return Problems.Validation([("order_ids", $"'{item}' is not an order id.")]);
                }

                ids.Add(orderId);
            }

            var result = await bus.InvokeForCallerAsync<CommandResult<StudyGroupResponse>>(
                user, new AddOrdersToStudyGroup(studyGroup, ids, user.Actor(Via)), cancellation);
            return result.Rejected is { } rejected
                ? Problems.From(rejected)
                : TypedResults.Ok(new StudyGroupBody(result.Value!.StudyGroup, result.Value.OrderIds));
        }
    }

    /// <summary>Routing decodes every escape of a path segment but %2F (a '/' inside the name); the name is the fully decoded segment.</summary>
    private static string GroupName(string segment) => segment.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    private static IResult? Check(HttpRequest request, string? reportType)
    {
        if (string.IsNullOrEmpty(reportType))
        {
            return Problems.Validation([("report_type", "The report_type query parameter is required.")]);
        }

        if (ReportContentTypes.NormaliseReportType(reportType) is null)
        {
            return Problems.Validation([("report_type", ReportContentTypes.ReportTypeRule)]);
        }

        if (ReportContentTypes.Normalise(request.ContentType) is null)
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type",
                $"Report content must be sent as application/json, application/pdf or application/dicom, not '{request.ContentType}'.");
        }

        return null;
    }

    private static async Task<(ReportContent? Content, IResult? Failure)> ReceiveAsync(HttpContext context, string? expectedStudyUid, CancellationToken cancellation)
    {
        var limit = context.RequestServices.GetRequiredService<IOptions<ReportOptions>>().Value.MaxReportBytes;
        if (context.Request.ContentLength > limit)
        {
            return (null, Problems.Create(StatusCodes.Status413PayloadTooLarge, "Payload Too Large", $"The report exceeds {limit} bytes."));
        }

        // Our own bound counts the bytes; the server's is set just above it so ours answers first.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit + 1;
        }

        var receiver = context.RequestServices.GetRequiredService<ReportReceiver>();
        var (content, failure) = await receiver.ReceiveAsync(
            context.Request.Body, ReportContentTypes.Normalise(context.Request.ContentType)!, expectedStudyUid, cancellation);
        return content is not null
            ? (content, null)
            : (null, Problems.Create(failure!.Status, failure.Status switch
            {
                StatusCodes.Status413PayloadTooLarge => "Payload Too Large",
                StatusCodes.Status415UnsupportedMediaType => "Unsupported Media Type",
                _ => "Bad Request",
            }, failure.Detail));
    }
}

public sealed record ReportDeliveredBody(
    [property: JsonPropertyName("report_id")] Guid ReportId,
    [property: JsonPropertyName("order_id")] Guid? OrderId,
    [property: JsonPropertyName("study_group")] string? StudyGroup,
    [property: JsonPropertyName("report_type")] string ReportType,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("amends")] Guid? Amends,
    [property: JsonPropertyName("media_type")] string MediaType,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("delivered_at")] DateTimeOffset DeliveredAt)
{
    public static ReportDeliveredBody From(ReportDeliveryResponse r) =>
        new(r.ReportId, r.OrderId, r.StudyGroup, r.ReportType, r.Version, r.Amends, r.MediaType, r.Size, r.Sha256, r.DeliveredAt);
}

public sealed record StudyGroupBody(
    [property: JsonPropertyName("study_group")] string StudyGroup,
    [property: JsonPropertyName("order_ids")] IReadOnlyList<Guid> OrderIds);
