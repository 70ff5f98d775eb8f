using System.Security.Claims;
using Carter;
using EventSourced.Application.Common;
using EventSourced.Application.Patients;
using EventSourced.Application.Patients.CreatingPatient;
using EventSourced.Application.Patients.MergingPatients;
using EventSourced.Application.Patients.MovingStudy;
using EventSourced.Application.Patients.UndoingCorrection;
using EventSourced.Application.Patients.UpdatingPatient;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Patients;
using EventSourced.Web.Infrastructure;
using Marten;
using Wolverine;

namespace EventSourced.Web.Pacs;

/// <summary>
/// Document e, "Patient APIs" and the study-to-patient calls: <c>patients/create</c>, <c>patients/update</c>,
/// <c>patients/merge</c>, <c>studies/move</c>, and our own <c>corrections/{id}/undo</c>.
/// </summary>
public sealed class PacsPatientsModule : ICarterModule
{
    private const string Via = "pacs-api";

    private static readonly PacsField[] CreateFields =
    [
        new("patientID", PacsFieldKind.PatientId, true), new("patientName", PacsFieldKind.PersonName, true),
        new("patientBirthDate", PacsFieldKind.Date, false), new("patientSex", PacsFieldKind.Sex, false),
        new("idIssuer", PacsFieldKind.PatientId, false), new("userName", PacsFieldKind.Text, true),
    ];

    private static readonly PacsField[] UpdateFields =
    [
        new("patientID", PacsFieldKind.PatientId, true), new("patientName", PacsFieldKind.PersonName, true),
        new("patientBirthDate", PacsFieldKind.Date, false), new("patientSex", PacsFieldKind.Sex, false),
        new("operatorName", PacsFieldKind.Text, false), new("userName", PacsFieldKind.Text, true),
    ];

    private static readonly PacsField[] MergeFields =
    [
        new("sourcePatientID", PacsFieldKind.PatientId, true), new("targetPatientID", PacsFieldKind.PatientId, true),
        new("patientName", PacsFieldKind.PersonName, false), new("patientBirthDate", PacsFieldKind.Date, false),
        new("patientSex", PacsFieldKind.Sex, false), new("operatorName", PacsFieldKind.Text, false),
        new("userName", PacsFieldKind.Text, true),
    ];

    private static readonly PacsField[] MoveFields =
    [
        new("studyInstanceUid", PacsFieldKind.Uid, true), new("targetPatientID", PacsFieldKind.PatientId, true),
        new("patientName", PacsFieldKind.PersonName, true), new("patientBirthDate", PacsFieldKind.Date, false),
        new("patientSex", PacsFieldKind.Sex, false), new("userName", PacsFieldKind.Text, true),
    ];

    private static readonly PacsField[] UndoFields = [new("userName", PacsFieldKind.Text, false)];

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/o3-dpacs-wado").WithTags("PACS: patients").RequireAuthorization(Scopes.StudiesWrite);
        group.MapPost("/patients/create", Create).WithName("PacsCreatePatient")
            .Produces<PatientCreatedResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/patients/update", Update).WithName("PacsUpdatePatient")
            .Produces<CorrectionResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/patients/merge", Merge).WithName("PacsMergePatients")
            .Produces<CorrectionResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/studies/move", Move).WithName("PacsMoveStudy")
            .Produces<CorrectionResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/corrections/{correctionId}/undo", Undo).WithName("PacsUndoCorrection")
            .Produces<CorrectionResponse>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static Task<IResult> Create(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, CancellationToken cancellation) =>
        WithBody(request, CreateFields, async v =>
        {
            var patient = new PatientDemographics(v["patientID"], v.GetValueOrDefault("idIssuer"), v["patientName"], v.GetValueOrDefault("patientBirthDate"), v.GetValueOrDefault("patientSex"));
            return Answer(await bus.InvokeForCallerAsync<CommandResult<PatientCreatedResponse>>(user, new CreatePatient(patient, user.Actor(Via)), cancellation));
        }, cancellation);

    private static Task<IResult> Update(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, IDocumentStore store, CancellationToken cancellation) =>
        WithBody(request, UpdateFields, async v =>
        {
            var (key, problem) = await ResolveAsync(store, user, v["patientID"], "patient", mustExist: true, cancellation);
            if (problem is not null)
            {
                return problem;
            }

            List<Guid> orders;
            await using (var session = store.QuerySessionForCaller(user))
            {
                orders = [.. await session.Query<Projections.Orders.OrderSummary>().Where(x => x.PatientId == key!.PatientId).Select(x => x.Id).ToListAsync(cancellation)];
            }

            var command = new UpdatePatient(key!, v["patientName"], v.GetValueOrDefault("patientBirthDate"), v.GetValueOrDefault("patientSex"),
                v.GetValueOrDefault("operatorName") ?? v["userName"], user.Actor(Via)) { OrderIds = orders };
            return Answer(await bus.InvokeForCallerAsync<CommandResult<CorrectionResponse>>(user, command, cancellation));
        }, cancellation);

    private static Task<IResult> Merge(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, IDocumentStore store, CancellationToken cancellation) =>
        WithBody(request, MergeFields, async v =>
        {
            var (source, problem) = await ResolveAsync(store, user, v["sourcePatientID"], "source patient", mustExist: true, cancellation);
            if (problem is not null)
            {
                return problem;
            }

            var (target, targetProblem) = await ResolveAsync(store, user, v["targetPatientID"], "target patient", mustExist: false, cancellation);
            if (targetProblem is not null)
            {
                return targetProblem;
            }

            var command = new MergePatients(source!, target!, NewTarget(v, "targetPatientID"), v.GetValueOrDefault("operatorName"), v["userName"], user.Actor(Via));
            return Answer(await bus.InvokeForCallerAsync<CommandResult<CorrectionResponse>>(user, command, cancellation));
        }, cancellation);

    private static Task<IResult> Move(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, IDocumentStore store, CancellationToken cancellation) =>
        WithBody(request, MoveFields, async v =>
        {
            var (target, problem) = await ResolveAsync(store, user, v["targetPatientID"], "target patient", mustExist: false, cancellation);
            if (problem is not null)
            {
                return problem;
            }

            var command = new MoveStudy(v["studyInstanceUid"], target!, NewTarget(v, "targetPatientID"), v["userName"], user.Actor(Via));
            return Answer(await bus.InvokeForCallerAsync<CommandResult<CorrectionResponse>>(user, command, cancellation));
        }, cancellation);

    private static async Task<IResult> Undo(string correctionId, HttpRequest request, ClaimsPrincipal user, IMessageBus bus, CancellationToken cancellation)
    {
        if (!Guid.TryParse(correctionId, out var id))
        {
            return Problems.NotFound($"No correction {correctionId}.");
        }

        string? userName = null;
        if (request.ContentLength is not 0 && (request.ContentLength is not null || request.Headers.TransferEncoding.Count > 0))
        {
            var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation);
            if (document is null)
            {
                return error!;
            }

            using (document)
            {
                var (values, errors) = PacsCorrectionRequest.Read(document.RootElement, UndoFields);
                if (errors.Count > 0)
                {
                    return Problems.Validation(errors);
                }

                userName = values.GetValueOrDefault("userName");
            }
        }

        return Answer(await bus.InvokeForCallerAsync<CommandResult<CorrectionResponse>>(user, new UndoCorrection(id, userName, user.Actor(Via)), cancellation));
    }

    private static PatientDemographics NewTarget(Dictionary<string, string> v, string idField) =>
        new(v[idField], null, v.GetValueOrDefault("patientName"), v.GetValueOrDefault("patientBirthDate"), v.GetValueOrDefault("patientSex"));

    /// <summary>
    /// A PatientID named without an issuer: the one patient with that PatientID under any issuer (or
    /// none). Two or more (one PatientID used by several issuers) is document e's 409 "the provided
    /// patientID identifies more than one patient". Absent, a target is created with no issuer.
    /// </summary>
    internal static async Task<(PatientKey? Key, IResult? Problem)> ResolveAsync(
        IDocumentStore store, ClaimsPrincipal user, string patientId, string role, bool mustExist, CancellationToken cancellation)
    {
        await using var session = store.QuerySessionForCaller(user);
        var found = await session.Query<PatientRecord>().Where(x => x.PatientId == patientId).Take(2).ToListAsync(cancellation);
        return found.Count switch
        {
            0 when mustExist => (null, Problems.Create(StatusCodes.Status409Conflict, "Conflict", $"No {role} found with PatientID '{patientId}'.")),
            0 => (new PatientKey(null, patientId), null),
            1 => (new PatientKey(found[0].IssuerOfPatientId, patientId), null),
            _ => (null, Problems.Create(StatusCodes.Status409Conflict, "Conflict",
                $"The provided patientID '{patientId}' identifies more than one patient ({role}): it is used under several issuers.")),
        };
    }

    internal static async Task<IResult> WithBody(HttpRequest request, IReadOnlyList<PacsField> fields, Func<Dictionary<string, string>, Task<IResult>> then, CancellationToken cancellation)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation);
        if (document is null)
        {
            return error!;
        }

        using (document)
        {
            var (values, errors) = PacsCorrectionRequest.Read(document.RootElement, fields);
            return errors.Count > 0 ? Problems.Validation(errors) : await then(values);
        }
    }

    internal static IResult Answer<T>(CommandResult<T> result)
        where T : class => result.Rejected is { } rejected ? Problems.From(rejected) : TypedResults.Ok(result.Value);
}
