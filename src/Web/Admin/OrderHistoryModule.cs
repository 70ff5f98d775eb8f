using System.Security.Claims;
using Carter;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Orders;
using EventSourced.Web.Infrastructure;
using Marten;

namespace EventSourced.Web.Admin;

/// <summary>
/// Our own audit view (no vendor dialect has one): an order's events with who, when and through which
/// API. Projected asynchronously, so it may trail the write by the daemon's latency.
/// </summary>
public sealed class OrderHistoryModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapGet("/admin/orders/{orderId:guid}/history", GetHistory)
            .WithTags("Audit")
            .WithName("GetOrderHistory")
            .RequireAuthorization(Scopes.OrdersRead)
            .Produces<OrderHistory>()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> GetHistory(Guid orderId, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.QuerySessionForCaller(user);
        var history = await session.LoadAsync<OrderHistory>(orderId, cancellation);
        return history is null ? Problems.NotFound($"No history for order {orderId} (yet).") : TypedResults.Ok(history);
    }
}
