using System.Security.Claims;
using Carter;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Orders;
using EventSourced.Web.Infrastructure;
using Marten;

namespace EventSourced.Web.Reports;

/// <summary>Document a: order status by order id or StudyInstanceUID, and order ids by StudyInstanceUID.</summary>
public sealed class OrderStatusModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Reports API: order status").RequireAuthorization(Scopes.OrdersRead);

        group.MapGet("/status", GetStatus)
            .WithName("GetOrderStatus")
            .Produces<OrderStatusResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status400BadRequest);

        group.MapGet("/orderId", GetOrderIds)
            .WithName("GetOrderIds")
            .Produces<OrderIdsResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> GetStatus(
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "order_id")] string? orderId,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "study_uid")] string? studyUid,
        ClaimsPrincipal user,
        IDocumentStore store,
        CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(orderId) == string.IsNullOrWhiteSpace(studyUid))
        {
            return Problems.BadRequest("Give exactly one of the query parameters order_id and study_uid.");
        }

        await using var session = store.QuerySessionForCaller(user);
        OrderSummary? summary;
        if (!string.IsNullOrWhiteSpace(orderId))
        {
            if (!Guid.TryParse(orderId, out var id))
            {
                return Problems.BadRequest($"'{orderId}' is not an order id.");
            }

            summary = await session.LoadAsync<OrderSummary>(id, cancellation);
        }
        else
        {
            // "If multiple orders correspond to a study UID, only the most recent is returned."
            summary = await OrdersOfStudy(session, studyUid!).FirstOrDefaultAsync(cancellation);
        }

        return summary is null
            ? Problems.NotFound(orderId is not null ? $"No order {orderId}." : $"No order for StudyInstanceUID {studyUid}.")
            : TypedResults.Ok(OrderStatusResponse.From(summary));
    }

    private static async Task<IResult> GetOrderIds(
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "study_uid")] string? studyUid,
        ClaimsPrincipal user,
        IDocumentStore store,
        CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(studyUid))
        {
            return Problems.BadRequest("The study_uid query parameter is required.");
        }

        await using var session = store.QuerySessionForCaller(user);
        var ids = await OrdersOfStudy(session, studyUid).Select(x => x.Id).ToListAsync(cancellation);
        return ids.Count == 0
            ? Problems.NotFound($"No order for StudyInstanceUID {studyUid}.")
            : TypedResults.Ok(new OrderIdsResponse(studyUid, ids));
    }

    /// <summary>The study's orders, most recent first; deleted orders are gone from these views (their history stays in the log).</summary>
    private static IQueryable<OrderSummary> OrdersOfStudy(IQuerySession session, string studyUid) =>
        session.Query<OrderSummary>()
            .Where(x => x.StudyInstanceUid == studyUid && x.Status != OrderStatus.Deleted)
            .OrderByDescending(x => x.CreatedAt)
            .ThenByDescending(x => x.Id);
}
