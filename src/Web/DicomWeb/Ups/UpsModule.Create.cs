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

/// <summary>UPS-RS create (PS3.18 §11.4).</summary>
public sealed partial class UpsModule
{
    /// <summary>
    /// PS3.18 §11.4: <c>POST /workitems{?workitem}</c>. The workitem UID comes from the query
    /// (<c>?workitem=</c>, <c>?AffectedSOPInstanceUID=</c> or a bare <c>?{uid}</c>), else from SOP
    /// Instance UID (0008,0018) in the data set, else this SCP assigns one. 201 with Content-Location.
    /// </summary>
    private static async Task<IResult> CreateAsync(
        HttpRequest request, ClaimsPrincipal user, IMessageBus bus, IDocumentStore store, IConfiguration configuration, CancellationToken cancellation)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation, arrayOfOneObject: true);
        if (document is null)
        {
            return error!;
        }

        using (document)
        {
            var dataset = document.RootElement;
            var workitemUid = RequestedWorkitemUid(request) ?? WorkitemDatasets.Value(dataset, "00080018");
            if (workitemUid is not null && !IsUid(workitemUid))
            {
                return Problems.BadRequest($"'{workitemUid}' is not a valid workitem (SOP Instance) UID.");
            }

            if (WorkitemDatasets.Value(dataset, "00741000") is { } state && state != "SCHEDULED")
            {
                return Problems.BadRequest("A workitem is created SCHEDULED (PS3.4 CC.2.5.1.3.1): Procedure Step State (0074,1000) must be SCHEDULED or absent.");
            }

            if (WorkitemDatasets.Value(dataset, "00081195") is not null)
            {
                return Problems.BadRequest("A workitem is created without a Transaction UID (0008,1195) (PS3.4 Table CC.2.5-3).");
            }

            var fields = WorkitemDatasets.ReadUps(dataset);
            if (string.IsNullOrEmpty(fields["StudyInstanceUID"]))
            {
                fields["StudyInstanceUID"] = DicomUid.Generate(configuration["Dicom:OrganizationUidRoot"]);
            }

            await using (var session = store.QuerySessionForCaller(user))
            {
                if (workitemUid is not null && await WorklistQueries.WorkitemUidTakenAsync(session, workitemUid, cancellation))
                {
                    return Problems.Create(StatusCodes.Status409Conflict, "Conflict", $"A workitem with the UID {workitemUid} already exists.");
                }
            }

            var (created, failure) = await OrderIntake.CreateAsync(bus, user, new CreateOrder(OrderFields.Build(fields), user.Actor(Via), workitemUid), cancellation,
                e => $"{e.Message} (UPS-RS: {AttributeOf(e.Field)})");
            if (failure is not null)
            {
                return failure;
            }

            var location = WorkitemUrl(request, created!.WorkitemUid);
            request.HttpContext.Response.Headers[HeaderNames.ContentLocation] = location;
            return Results.Created(location, null);
        }
    }

    private static string? RequestedWorkitemUid(HttpRequest request)
    {
        foreach (var (key, values) in request.Query)
        {
            if (key.Equals("workitem", StringComparison.OrdinalIgnoreCase) || key.Equals("AffectedSOPInstanceUID", StringComparison.OrdinalIgnoreCase))
            {
                return values.ToString();
            }

            if (string.IsNullOrEmpty(values.ToString()))
            {
                // The bare form of PS3.18's {?workitem}: the query string is the UID itself.
                return key;
            }
        }

        return null;
    }

    private static string AttributeOf(string field) => field switch
    {
        "PatientID" => "(0010,0020)",
        "PatientName" => "(0010,0010)",
        "StudyInstanceUID" => "(0020,000D)",
        "AccessionNumber" => "(0008,0050) or in (0040,A370)",
        "Modality" => "(0008,0060)",
        "ScheduledStationAETitle" => "(0040,0001)",
        "ScheduledProcedureStepDescription" => "Procedure Step Label (0074,1204)",
        "ScheduledProcedureStepStartDate" or "ScheduledProcedureStepStartTime" => "Scheduled Procedure Step Start DateTime (0040,4005)",
        _ => field,
    };
}
