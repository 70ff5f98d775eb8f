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

/// <summary>UPS-RS change state (PS3.18 §11.7).</summary>
public sealed partial class UpsModule
{
    /// <summary>PS3.18 §11.7: the body holds Procedure Step State (0074,1000) and Transaction UID (0008,1195).</summary>
    private static async Task<IResult> ChangeStateAsync(
        string workitem, HttpRequest request, ClaimsPrincipal user, IMessageBus bus, IDocumentStore store, CancellationToken cancellation)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation, arrayOfOneObject: true);
        if (document is null)
        {
            return error!;
        }

        using (document)
        {
            var requested = ProcedureStep.FromDicom(WorkitemDatasets.Value(document.RootElement, "00741000"));
            if (requested is null)
            {
                return Problems.BadRequest("The body must hold Procedure Step State (0074,1000): IN PROGRESS, COMPLETED or CANCELED.");
            }

            var orderId = await OrderIdOf(store, user, workitem, cancellation);
            if (orderId is null)
            {
                return Problems.NotFound($"No workitem {workitem}.");
            }

            var transactionUid = WorkitemDatasets.Value(document.RootElement, "00081195");
            var result = await bus.InvokeForCallerAsync<CommandResult<ProcedureStepDecision>>(
                user, new ChangeProcedureStepState(orderId.Value, requested.Value, transactionUid, user.Actor(Via)), cancellation);
            return Answer(request, result, StatusCodes.Status200OK);
        }
    }
}
