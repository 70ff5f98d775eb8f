using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Carter;
using EventSourced.Application.Common;
using EventSourced.Application.Orders.CreatingOrder;
using EventSourced.Application.Worklist;
using EventSourced.Dicom;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Orders;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Shared;
using EventSourced.Web.Shared.DicomWeb;
using EventSourced.Web.Shared.Orders;
using EventSourced.Web.Shared.Worklist;
using Marten;
using Microsoft.Net.Http.Headers;
using Wolverine;

namespace EventSourced.Web.DicomWeb.Ups;

/// <summary>
/// UPS-RS (PS3.18 §11, the Worklist Service): create, search, retrieve, change state and request
/// cancellation of workitems. Every workitem is an order: orders made through document e or document c
/// are workitems here, and workitems made here are orders there (docs/dicomweb-conformance.md).
/// </summary>
public sealed partial class UpsModule : ICarterModule
{
    private const string Via = "ups-rs";

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/dicomweb/workitems").WithTags("DICOMweb: UPS-RS");

        group.MapPost("", CreateAsync).WithName("UpsCreateWorkitem").RequireAuthorization(Scopes.WorklistWrite);
        group.MapGet("", SearchAsync).WithName("UpsSearchWorkitems").RequireAuthorization(Scopes.WorklistRead);
        group.MapGet("/{workitem}", RetrieveAsync).WithName("UpsRetrieveWorkitem").RequireAuthorization(Scopes.WorklistRead);
        group.MapPut("/{workitem}/state", ChangeStateAsync).WithName("UpsChangeWorkitemState").RequireAuthorization(Scopes.WorklistWrite);
        group.MapPost("/{workitem}/cancelrequest", RequestCancellationAsync).WithName("UpsRequestCancellation").RequireAuthorization(Scopes.WorklistWrite);
    }

    /// <summary>Success (or a warning) with <paramref name="success"/>; failures 400/409; every warning or failure also as a Warning header naming the PS3.4 status.</summary>
    private static IResult Answer(HttpRequest request, CommandResult<ProcedureStepDecision> result, int success)
    {
        if (result.Rejected is { Kind: Domain.Common.RejectionKind.NotFound } notFound)
        {
            return Problems.From(notFound);
        }

        var decision = result.Value!;
        if (decision.Status is not null)
        {
            request.HttpContext.Response.Headers[HeaderNames.Warning] = $"299 {request.Host}: \"{decision.Meaning} (0x{decision.Status})\"";
        }

        return decision.Rejected is { } rejected ? Problems.From(rejected) : Results.StatusCode(success);
    }

    private static async Task<Guid?> OrderIdOf(IDocumentStore store, ClaimsPrincipal user, string workitem, CancellationToken cancellation)
    {
        await using var session = store.QuerySessionForCaller(user);
        return (await WorklistQueries.ByWorkitemUidAsync(session, workitem, cancellation))?.Id;
    }

    private static string WorkitemUrl(HttpRequest request, string uid) =>
        $"{request.Scheme}://{request.Host}{request.PathBase}/dicomweb/workitems/{uid}";

    private static IResult DicomJson(JsonArray array) => Results.Text(array.ToJsonString(), DicomWebMediaTypes.DicomJson);

    private static bool IsUid(string value) =>
        value.Length is > 0 and <= 64 && value.All(c => char.IsAsciiDigit(c) || c == '.') && !value.StartsWith('.') && !value.EndsWith('.') && !value.Contains("..");
}
