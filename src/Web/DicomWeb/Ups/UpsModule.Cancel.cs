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

/// <summary>UPS-RS request cancellation (PS3.18 §11.8).</summary>
public sealed partial class UpsModule
{
    /// <summary>PS3.18 §11.8: 202 when accepted; the optional body may hold Reason For Cancellation (0074,1238).</summary>
    private static async Task<IResult> RequestCancellationAsync(
        string workitem, HttpRequest request, ClaimsPrincipal user, IMessageBus bus, IDocumentStore store, CancellationToken cancellation)
    {
        string? reason = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation, arrayOfOneObject: true);
            if (document is null)
            {
                return error!;
            }

            using (document)
            {
                reason = WorkitemDatasets.Value(document.RootElement, "00741238");
            }
        }

        var orderId = await OrderIdOf(store, user, workitem, cancellation);
        if (orderId is null)
        {
            return Problems.NotFound($"No workitem {workitem}.");
        }

        var result = await bus.InvokeForCallerAsync<CommandResult<ProcedureStepDecision>>(
            user, new RequestProcedureStepCancellation(orderId.Value, reason, user.Actor(Via)), cancellation);
        return Answer(request, result, StatusCodes.Status202Accepted);
    }
}
