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

/// <summary>UPS-RS retrieve (PS3.18 §11.5).</summary>
public sealed partial class UpsModule
{
    private static async Task<IResult> RetrieveAsync(string workitem, HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        if (!DicomWebMediaTypes.AcceptsDicomJson(http.Request))
        {
            return Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable", $"UPS-RS answers {DicomWebMediaTypes.DicomJson} only.");
        }

        await using var session = store.QuerySessionForCaller(user);
        var order = await WorklistQueries.ByWorkitemUidAsync(session, workitem, cancellation);
        return order is null
            ? Problems.NotFound($"No workitem {workitem}.")
            : DicomJson(new JsonArray(WorkitemDatasets.Ups(order)));
    }
}
