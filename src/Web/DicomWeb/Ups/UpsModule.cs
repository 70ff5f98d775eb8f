using System.Globalization;
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
using EventSourced.Web.Pacs;
using EventSourced.Web.Worklist;
using Marten;
using Microsoft.Net.Http.Headers;
using Wolverine;

namespace EventSourced.Web.DicomWeb.Ups;

/// <summary>
/// UPS-RS (PS3.18 §11, the Worklist Service): create, search, retrieve, change state and request
/// cancellation of workitems. Every workitem is an order: orders made through document e or document c
/// are workitems here, and workitems made here are orders there (docs/dicomweb-conformance.md).
/// </summary>
public sealed class UpsModule : ICarterModule
{
    private const string Via = "ups-rs";
    private const int DefaultLimit = 100;
    private const int MaxLimit = 200;
    private static readonly OrderDetailsValidator Validator = new();

    private static readonly Dictionary<string, string> SearchKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["PatientID"] = "00100020",
        ["PatientName"] = "00100010",
        ["ScheduledProcedureStepStartDateTime"] = "00404005",
        ["ProcedureStepState"] = "00741000",
        ["AccessionNumber"] = "00080050",
        ["StudyInstanceUID"] = "0020000D",
        ["SOPInstanceUID"] = "00080018",
    };

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/dicomweb/workitems").WithTags("DICOMweb: UPS-RS");

        group.MapPost("", CreateAsync).WithName("UpsCreateWorkitem").RequireAuthorization(Scopes.WorklistWrite);
        group.MapGet("", SearchAsync).WithName("UpsSearchWorkitems").RequireAuthorization(Scopes.WorklistRead);
        group.MapGet("/{workitem}", RetrieveAsync).WithName("UpsRetrieveWorkitem").RequireAuthorization(Scopes.WorklistRead);
        group.MapPut("/{workitem}/state", ChangeStateAsync).WithName("UpsChangeWorkitemState").RequireAuthorization(Scopes.WorklistWrite);
        group.MapPost("/{workitem}/cancelrequest", RequestCancellationAsync).WithName("UpsRequestCancellation").RequireAuthorization(Scopes.WorklistWrite);
    }

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

            var details = PacsOrderRequest.Build(fields);
            var validation = await Validator.ValidateAsync(details, cancellation);
            if (!validation.IsValid)
            {
                return Problems.Validation(validation.Errors.Select(e => (e.PropertyName, $"{e.ErrorMessage} (UPS-RS: {AttributeOf(e.PropertyName)})")));
            }

            await using (var session = store.QuerySessionForCaller(user))
            {
                if (workitemUid is not null && await WorklistQueries.WorkitemUidTakenAsync(session, workitemUid, cancellation))
                {
                    return Problems.Create(StatusCodes.Status409Conflict, "Conflict", $"A workitem with the UID {workitemUid} already exists.");
                }
            }

            var result = await bus.InvokeForCallerAsync<CommandResult<OrderCreatedResponse>>(
                user, new CreateOrder(details, user.Actor(Via), workitemUid), cancellation);
            if (result.Rejected is { } rejected)
            {
                return Problems.From(rejected);
            }

            var location = WorkitemUrl(request, result.Value!.WorkitemUid);
            request.HttpContext.Response.Headers[HeaderNames.ContentLocation] = location;
            return Results.Created(location, null);
        }
    }

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

    /// <summary>
    /// PS3.18 §11.9: QIDO-style matching (PS3.4 C.2.2.2) on PatientID, PatientName, Scheduled Procedure
    /// Step Start DateTime (range), Procedure Step State, AccessionNumber, StudyInstanceUID and SOP
    /// Instance UID, by keyword or tag; single values match exactly, <c>*</c>/<c>?</c> are wildcards
    /// (PatientName without regard to case); limit (default 100, at most 200) and offset.
    /// </summary>
    private static async Task<IResult> SearchAsync(HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        if (!DicomWebMediaTypes.AcceptsDicomJson(http.Request))
        {
            return Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable", $"UPS-RS answers {DicomWebMediaTypes.DicomJson} only.");
        }

        var filters = new Dictionary<string, string>();
        var limit = DefaultLimit;
        var offset = 0;
        foreach (var (key, values) in http.Request.Query)
        {
            var value = values.ToString();
            if (key.Equals("limit", StringComparison.OrdinalIgnoreCase))
            {
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1)
                {
                    return Problems.BadRequest("limit must be a positive integer.");
                }

                limit = Math.Min(limit, MaxLimit);
                continue;
            }

            if (key.Equals("offset", StringComparison.OrdinalIgnoreCase))
            {
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
                {
                    return Problems.BadRequest("offset must be a non-negative integer.");
                }

                continue;
            }

            if (key.Equals("includefield", StringComparison.OrdinalIgnoreCase) || key.Equals("fuzzymatching", StringComparison.OrdinalIgnoreCase))
            {
                continue; // every attribute is returned; fuzzy matching is not offered (PatientName wildcards ignore case)
            }

            var tag = SearchKeys.TryGetValue(key, out var known) ? known : SearchKeys.Values.FirstOrDefault(t => t.Equals(key, StringComparison.OrdinalIgnoreCase));
            if (tag is null)
            {
                return Problems.BadRequest($"'{key}' is not a matching key of this worklist (supported: {string.Join(", ", SearchKeys.Keys)}, limit, offset, includefield).");
            }

            filters[tag] = value;
        }

        if (filters.TryGetValue("00741000", out var stateFilter) && ProcedureStep.FromDicom(stateFilter) is null)
        {
            return Problems.BadRequest($"'{stateFilter}' is not a Procedure Step State (SCHEDULED, IN PROGRESS, COMPLETED, CANCELED).");
        }

        (string Low, string High)? range = null;
        if (filters.TryGetValue("00404005", out var dateTime))
        {
            range = DateTimeRange(dateTime);
            if (range is null)
            {
                return Problems.BadRequest($"'{dateTime}' is not a DT value or range (YYYYMMDD[HHMMSS][-YYYYMMDD[HHMMSS]]).");
            }
        }

        await using var session = store.QuerySessionForCaller(user);
        var query = session.Query<OrderSummary>().Where(x => x.Status != OrderStatus.Deleted);
        if (filters.TryGetValue("00100020", out var patientId) && !HasWildcard(patientId))
        {
            query = query.Where(x => x.PatientId == patientId);
        }

        if (filters.TryGetValue("0020000D", out var studyUid))
        {
            query = query.Where(x => x.StudyInstanceUid == studyUid);
        }

        if (filters.TryGetValue("00080018", out var sopUid))
        {
            query = query.Where(x => x.WorkitemUid == sopUid);
        }

        if (filters.TryGetValue("00080050", out var accession) && !HasWildcard(accession))
        {
            query = query.Where(x => x.AccessionNumber == accession);
        }

        if (stateFilter is not null)
        {
            var state = ProcedureStep.FromDicom(stateFilter)!.Value;
            query = query.Where(x => x.ProcedureStepState == state);
        }

        var candidates = await query.ToListAsync(cancellation);
        var matches = candidates
            .Where(o => patientId is null || Matches(patientId, o.PatientId, ignoreCase: false))
            .Where(o => accession is null || Matches(accession, o.AccessionNumber, ignoreCase: false))
            .Where(o => !filters.TryGetValue("00100010", out var name) || Matches(name, o.Details.PatientName, ignoreCase: true))
            .Where(o => range is not { } r || (string.CompareOrdinal(o.ScheduledStartDateTime, r.Low) >= 0 && string.CompareOrdinal(o.ScheduledStartDateTime, r.High) <= 0))
            .InWorklistOrder()
            .ToList();

        var page = matches.Skip(offset).Take(limit).ToList();
        if (page.Count == 0)
        {
            // As QIDO-RS here (PS3.18 §8.3.4.4.1): no match is 204 No Content.
            return TypedResults.NoContent();
        }

        if (matches.Count > offset + page.Count)
        {
            http.Response.Headers[HeaderNames.Warning] = $"299 {http.Request.Host}: \"There are more matching workitems than returned; ask again with offset={offset + page.Count}.\"";
        }

        return DicomJson(new JsonArray([.. page.Select(o => (JsonNode)WorkitemDatasets.Ups(o))]));
    }

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

    private static string WorkitemUrl(HttpRequest request, string uid) =>
        $"{request.Scheme}://{request.Host}{request.PathBase}/dicomweb/workitems/{uid}";

    private static IResult DicomJson(JsonArray array) => Results.Text(array.ToJsonString(), DicomWebMediaTypes.DicomJson);

    private static bool IsUid(string value) =>
        value.Length is > 0 and <= 64 && value.All(c => char.IsAsciiDigit(c) || c == '.') && !value.StartsWith('.') && !value.EndsWith('.') && !value.Contains("..");

    private static bool HasWildcard(string value) => value.Contains('*') || value.Contains('?');

    private static bool Matches(string pattern, string? value, bool ignoreCase)
    {
        if (!HasWildcard(pattern))
        {
            return string.Equals(pattern, value, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
        }

        var regex = "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$";
        return value is not null && System.Text.RegularExpressions.Regex.IsMatch(value, regex,
            (ignoreCase ? System.Text.RegularExpressions.RegexOptions.IgnoreCase : System.Text.RegularExpressions.RegexOptions.None) | System.Text.RegularExpressions.RegexOptions.CultureInvariant,
            TimeSpan.FromSeconds(1));
    }

    /// <summary>A DT value or range (PS3.4 C.2.2.2.5): the low end padded with zeros, the high end with nines, compared as text.</summary>
    private static (string Low, string High)? DateTimeRange(string value)
    {
        var parts = value.Split('-');
        if (parts.Length > 2 || parts.Any(p => p.Length > 14 || !p.All(char.IsAsciiDigit)) || parts.All(p => p.Length == 0))
        {
            return null;
        }

        var low = parts[0];
        var high = parts.Length == 2 ? parts[1] : parts[0];
        return (low.PadRight(14, '0'), high.Length == 0 ? "99999999999999" : high.PadRight(14, '9'));
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
