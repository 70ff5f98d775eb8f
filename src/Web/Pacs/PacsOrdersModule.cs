using System.Security.Claims;
using Carter;
using EventSourced.Application.Common;
using EventSourced.Application.Orders.CreatingOrder;
using EventSourced.Application.Orders.DeletingOrder;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Shared.Orders;
using Wolverine;

namespace EventSourced.Web.Pacs;

/// <summary>Document e, "Orders APIs": create and delete an imaging order, under <c>/o3-dpacs-wado</c>.</summary>
public sealed class PacsOrdersModule : ICarterModule
{
    private const string Via = "pacs-api";

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/o3-dpacs-wado/orders").WithTags("PACS: orders");

        group.MapPost("/create", CreateOrder)
            .WithName("PacsCreateOrder")
            .RequireAuthorization(Scopes.OrdersWrite)
            .Accepts<object>("text/json", "application/json")
            .Produces<OrderCreatedResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapDelete("/delete", DeleteOrder)
            .WithName("PacsDeleteOrder")
            .RequireAuthorization(Scopes.OrdersWrite)
            .Produces<OrderDeletedResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> CreateOrder(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, CancellationToken cancellation)
    {
        var (created, failure) = await OrderIntake.CreateFromJsonAsync(request, user, bus, Via, details => details, cancellation);
        return failure ?? TypedResults.Ok(created);
    }

    private static async Task<IResult> DeleteOrder(string? studyUid, ClaimsPrincipal user, IMessageBus bus, CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(studyUid))
        {
            return Problems.Validation([("studyUid", "The studyUid query parameter is required.")]);
        }

        var result = await bus.InvokeForCallerAsync<CommandResult<OrderDeletedResponse>>(
            user, new DeleteOrderForStudy(studyUid, user.Actor(Via)), cancellation);
        return result.Rejected is { } rejected ? Problems.From(rejected) : TypedResults.Ok(result.Value);
    }
}
