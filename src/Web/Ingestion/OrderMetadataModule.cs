using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Carter;
using EventSourced.Application.Common;
using EventSourced.Application.Orders.AddingMetadata;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using Wolverine;

namespace EventSourced.Web.Ingestion;

/// <summary>Document b, "Add Metadata to Order": <c>PATCH /add-metadata?order_id=</c> or <c>?study_uid=</c> with a JSON object.</summary>
public sealed class OrderMetadataModule : ICarterModule
{
    private const string Via = "ingestion-api";
    private const int MaxKeyLength = 64;

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapPatch("/add-metadata", AddMetadata)
            .WithTags("Ingestion API: order metadata")
            .WithName("AddOrderMetadata")
            .RequireAuthorization(Scopes.OrdersWrite)
            .Accepts<Dictionary<string, JsonElement>>("application/json")
            .Produces<AddMetadataResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status400BadRequest);
    }

    public sealed record AddMetadataResponse(
        [property: JsonPropertyName("order_id")] Guid OrderId,
        [property: JsonPropertyName("study_uid")] string StudyUid,
        [property: JsonPropertyName("missing_metadata")] IReadOnlyList<string> MissingMetadata);

    private static async Task<IResult> AddMetadata(
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "order_id")] string? orderId,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "study_uid")] string? studyUid,
        HttpRequest request,
        ClaimsPrincipal user,
        IMessageBus bus,
        CancellationToken cancellation)
    {
        if (string.IsNullOrWhiteSpace(orderId) == string.IsNullOrWhiteSpace(studyUid))
        {
            return Problems.BadRequest("Give exactly one of the query parameters order_id and study_uid.");
        }

        Guid? id = null;
        if (!string.IsNullOrWhiteSpace(orderId))
        {
            if (!Guid.TryParse(orderId, out var parsed))
            {
                return Problems.BadRequest($"'{orderId}' is not an order id.");
            }

            id = parsed;
        }

        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation);
        if (document is null)
        {
            return error!;
        }

        using (document)
        {
            var metadata = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (string.IsNullOrWhiteSpace(property.Name) || property.Name.Length > MaxKeyLength)
                {
                    return Problems.BadRequest($"Metadata names are 1 to {MaxKeyLength} characters.");
                }

                // Clone: the event outlives the request's JSON document.
                metadata[property.Name] = property.Value.Clone();
            }

            if (metadata.Count == 0)
            {
                return Problems.BadRequest("The metadata object has no entries.");
            }

            var result = await bus.InvokeForCallerAsync<CommandResult<OrderMetadataResponse>>(
                user, new AddOrderMetadata(id, id is null ? studyUid : null, metadata, user.Actor(Via)), cancellation);
            return result.Rejected is { } rejected
                ? Problems.From(rejected)
                : TypedResults.Ok(new AddMetadataResponse(result.Value!.OrderId, result.Value.StudyInstanceUid, result.Value.MissingMetadata));
        }
    }
}
