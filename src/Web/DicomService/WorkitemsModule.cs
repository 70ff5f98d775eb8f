using System.Security.Claims;
using System.Text.Json.Nodes;
using Carter;
using EventSourced.Application.Common;
using EventSourced.Application.Orders.CreatingOrder;
using EventSourced.Application.Orders.DeletingOrder;
using EventSourced.Dicom;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Orders;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Shared.Orders;
using EventSourced.Web.Shared.Worklist;
using Marten;
using Wolverine;

namespace EventSourced.Web.DicomService;

/// <summary>
/// Document c, "Worklist management": <c>POST /workitems</c>, <c>GET /workitems?patientID=</c>,
/// <c>DELETE /workitems/{studyInstanceUID}</c>. A workitem is an order (the same aggregate and study
/// register as document e's orders and UPS-RS workitems).
/// </summary>
public sealed class WorkitemsModule : ICarterModule
{
    private const string Via = "dicom-service";

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/workitems").WithTags("DICOM service: worklist");

        group.MapPost("", CreateAsync)
            .WithName("DicomServiceCreateWorkitem")
            .RequireAuthorization(Scopes.WorklistWrite)
            .Accepts<object>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapGet("", ListAsync)
            .WithName("DicomServiceListWorkitems")
            .RequireAuthorization(Scopes.WorklistRead);

        group.MapDelete("/{studyInstanceUID}", DeleteAsync)
            .WithName("DicomServiceDeleteWorkitem")
            .RequireAuthorization(Scopes.WorklistWrite)
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> CreateAsync(
        HttpRequest request, ClaimsPrincipal user, IMessageBus bus, IDocumentStore store, IConfiguration configuration, CancellationToken cancellation)
    {
        // "The StudyInstanceUID is created automatically by the service": when the body has none.
        var (created, failure) = await OrderIntake.CreateFromJsonAsync(request, user, bus, Via, details => string.IsNullOrEmpty(details.StudyInstanceUid)
            ? details with { StudyInstanceUid = DicomUid.Generate(configuration["Dicom:OrganizationUidRoot"]) }
            : details, cancellation);
        if (failure is not null)
        {
            return failure;
        }

        await using var session = store.QuerySessionForCaller(user);
        var summary = await session.LoadAsync<OrderSummary>(created!.OrderId, cancellation);
        return Results.Text(WorkitemDatasets.ModalityWorklist(summary!).ToJsonString(), "application/json", statusCode: StatusCodes.Status200OK);
    }

    /// <summary>The patient's workitems still to be done (active orders), as the document's example shapes them; every active workitem without patientID.</summary>
    private static async Task<IResult> ListAsync(HttpRequest request, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        // The document writes the parameter patientID; read any casing.
        var patientId = request.Query.FirstOrDefault(q => q.Key.Equals("patientID", StringComparison.OrdinalIgnoreCase)).Value.ToString();
        await using var session = store.QuerySessionForCaller(user);
        var query = session.Query<OrderSummary>().Where(x =>
            x.Status == OrderStatus.Scheduled || x.Status == OrderStatus.ImagesArriving
            || x.Status == OrderStatus.ReadyForProcessing || x.Status == OrderStatus.ReportAvailable);
        if (!string.IsNullOrEmpty(patientId))
        {
            query = query.Where(x => x.PatientId == patientId);
        }

        var orders = await query.ToListAsync(cancellation);
        var array = new JsonArray([.. orders.InWorklistOrder().Select(o => (JsonNode)WorkitemDatasets.ModalityWorklist(o))]);
        return Results.Text(array.ToJsonString(), "application/json");
    }

    private static async Task<IResult> DeleteAsync(string studyInstanceUID, ClaimsPrincipal user, IMessageBus bus, CancellationToken cancellation)
    {
        var result = await bus.InvokeForCallerAsync<CommandResult<OrderDeletedResponse>>(
            user, new DeleteOrderForStudy(studyInstanceUID, user.Actor(Via)), cancellation);
        return result.Rejected is { } rejected ? Problems.From(rejected) : TypedResults.NoContent();
    }
}
