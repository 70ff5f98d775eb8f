using System.Security.Claims;
using System.Text.Json;
using Carter;
using EventSourced.Application.Common;
using EventSourced.Application.Patients;
using EventSourced.Application.Patients.ErasingPatient;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Orders;
using EventSourced.Projections.Patients;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using JasperFx.Events;
using Marten;
using Wolverine;

namespace EventSourced.Web.Admin;

/// <summary>
/// Our own erasure routes (right to be forgotten, docs/api-compatibility.md "Erasure"): <c>POST
/// /admin/patients/erase</c> (scope <c>patients.erase</c>) erases a patient's personal data from the read
/// models, the stored events and the stored DICOM files; <c>GET /audit/erasures</c> (scope
/// <c>audit.read</c>) lists the erasures: when, by whom, why, what (never an erased value).
/// </summary>
public sealed class PatientErasureModule : ICarterModule
{
    private const string Via = "admin-api";

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapPost("/admin/patients/erase", Erase)
            .WithTags("Erasure")
            .WithName("ErasePatient")
            .RequireAuthorization(Scopes.PatientsErase)
            .Accepts<ErasePatientRequest>("application/json")
            .Produces<PatientErasedResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/audit/erasures", List)
            .WithTags("Audit")
            .WithName("AuditErasures")
            .RequireAuthorization(Scopes.AuditRead)
            .Produces<IReadOnlyList<ErasureRecord>>();
    }

    private static async Task<IResult> Erase(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, IDocumentStore store, CancellationToken cancellation)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation);
        if (document is null)
        {
            return error!;
        }

        ErasePatientRequest body;
        using (document)
        {
            var (parsed, errors) = ErasePatientRequest.Read(document.RootElement);
            if (parsed is null)
            {
                return Problems.Validation(errors);
            }

            body = parsed;
        }

        var key = new PatientKey(body.IssuerOfPatientId, body.PatientId);
        await using var session = store.QuerySessionForCaller(user);
        var record = await session.LoadAsync<PatientRecord>(Patient.StreamId(user.TenantId(), key.Issuer, key.PatientId), cancellation);
        var studies = record?.StudyInstanceUids.ToArray() ?? [];

        // The patient's orders: by PatientID, and every order of its studies (a hospital expects the order
        // that brought the images to go with them).
        var orders = await session.Query<OrderSummary>()
            .Where(x => x.PatientId == key.PatientId || x.StudyInstanceUid.IsOneOf(studies))
            .Select(x => x.Id)
            .ToListAsync(cancellation);
        var command = new ErasePatient(key, body.Reason, user.Actor(Via)) { OrderIds = orders };
        var result = await bus.InvokeForCallerAsync<CommandResult<PatientErasedResponse>>(user, command, cancellation);
        return result.Rejected is { } rejected ? Problems.From(rejected) : TypedResults.Ok(result.Value);
    }

    private static async Task<IResult> List(ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.QuerySessionForCaller(user);
        var events = await session.Events.QueryRawEventDataOnly<PatientErased>().OrderBy(e => e.ErasedAt).ToListAsync(cancellation);
        return TypedResults.Ok(events.Select(e => new ErasureRecord(
            e.ErasureId, e.PatientStreamId, e.StudyInstanceUids, e.OrderIds, e.InstancesRewritten, e.Reason, e.ErasedBy.Subject, e.ErasedBy.Via, e.ErasedAt)).ToList());
    }
}

/// <summary>The body of <c>POST /admin/patients/erase</c>.</summary>
public sealed record ErasePatientRequest(string PatientId, string? IssuerOfPatientId, string? Reason)
{
    public static (ErasePatientRequest? Request, List<(string Field, string Message)> Errors) Read(JsonElement body)
    {
        var errors = new List<(string, string)>();
        var patientId = Text(body, "patientId", maxLength: 64, required: true, errors);
        var issuer = Text(body, "issuerOfPatientId", maxLength: 64, required: false, errors);
        var reason = Text(body, "reason", maxLength: 1024, required: false, errors);
        return errors.Count > 0 ? (null, errors) : (new(patientId!, issuer, reason), errors);
    }

    private static string? Text(JsonElement body, string name, int maxLength, bool required, List<(string, string)> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors.Add((name, $"{name} is required."));
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add((name, $"{name} must be a string."));
            return null;
        }

        var text = value.GetString()!.Trim();
        if (text.Length == 0 && required)
        {
            errors.Add((name, $"{name} must not be empty."));
        }
        else if (text.Length > maxLength || text.Any(char.IsControl))
        {
            errors.Add((name, $"{name} must be at most {maxLength} characters, without control characters."));
        }

        return text.Length == 0 ? null : text;
    }
}

/// <summary>One erasure as the audit shows it: what was erased and by whom, never an erased value.</summary>
public sealed record ErasureRecord(
    Guid ErasureId, Guid PatientStreamId, IReadOnlyList<string> StudyInstanceUids, IReadOnlyList<Guid> OrderIds, int InstancesRewritten,
    string? Reason, string Who, string Via, DateTimeOffset At);
