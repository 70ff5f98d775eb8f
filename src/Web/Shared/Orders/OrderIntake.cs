using System.Security.Claims;
using EventSourced.Application.Common;
using EventSourced.Application.Orders.CreatingOrder;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using Wolverine;

namespace EventSourced.Web.Shared.Orders;

/// <summary>
/// Sends <see cref="CreateOrder"/> for a dialect and turns its failures into the dialect-neutral answers
/// (400 naming the fields, 404/409 from the decision); the dialect maps the success.
/// </summary>
public static class OrderIntake
{
    /// <param name="describe">How a field error reads in this dialect; the handler's message when null.</param>
    public static async Task<(OrderCreatedResponse? Created, IResult? Failure)> CreateAsync(
        IMessageBus bus, ClaimsPrincipal user, CreateOrder command, CancellationToken cancellation, Func<FieldError, string>? describe = null)
    {
        var result = await bus.InvokeForCallerAsync<CommandResult<OrderCreatedResponse>>(user, command, cancellation);
        if (result.Invalid is { } errors)
        {
            return (null, Problems.Validation(errors.Select(e => (e.Field, describe?.Invoke(e) ?? e.Message))));
        }

        return result.Rejected is { } rejected ? (null, Problems.From(rejected)) : (result.Value, null);
    }

    /// <summary>The JSON order body of documents c and e (<see cref="OrderFields"/>), completed by the dialect, sent as the command.</summary>
    public static async Task<(OrderCreatedResponse? Created, IResult? Failure)> CreateFromJsonAsync(
        HttpRequest request, ClaimsPrincipal user, IMessageBus bus, string via, Func<OrderDetails, OrderDetails> complete, CancellationToken cancellation)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation);
        if (document is null)
        {
            return (null, error);
        }

        using (document)
        {
            var (details, unreadable) = OrderFields.Read(document.RootElement);
            var command = new CreateOrder(complete(details), user.Actor(via))
            {
                UnreadableFields = [.. unreadable.Select(e => new FieldError(e.Field, e.Message))],
            };
            return await CreateAsync(bus, user, command, cancellation);
        }
    }
}
