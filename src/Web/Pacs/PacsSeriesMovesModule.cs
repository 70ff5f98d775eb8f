using System.Security.Claims;
using Carter;
using EventSourced.Application.Common;
using EventSourced.Application.Patients;
using EventSourced.Application.Studies.ReconcilingStudies;
using EventSourced.Application.Studies.SwappingSeries;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using Marten;
using Wolverine;

namespace EventSourced.Web.Pacs;

/// <summary>
/// Document e, the series-to-study calls: <c>studies/reconcile</c> and <c>studies/swap</c>. Both are
/// corrections (their answer names the correction for <c>corrections/{id}/undo</c>). Choices:
/// docs/api-compatibility.md, "Document e — reconcile and swap".
/// </summary>
public sealed class PacsSeriesMovesModule : ICarterModule
{
    private const string Via = "pacs-api";

    private static readonly PacsField[] ReconcileFields =
    [
        new("sourceStudyInstanceUID", PacsFieldKind.Uid, true), new("targetStudyInstanceUID", PacsFieldKind.Uid, true),
        new("patientID", PacsFieldKind.PatientId, true), new("patientName", PacsFieldKind.PersonName, false),
        new("patientBirthDate", PacsFieldKind.Date, false), new("patientSex", PacsFieldKind.Sex, false),
        new("accessionNumber", PacsFieldKind.ShortText, false), new("studyDescription", PacsFieldKind.Text, false),
        new("studyDate", PacsFieldKind.Date, false), new("userName", PacsFieldKind.Text, true),
    ];

    private static readonly PacsField[] SwapFields =
    [
        new("sourceStudyInstanceUID", PacsFieldKind.Uid, true), new("targetStudyInstanceUID", PacsFieldKind.Uid, true),
        new("userName", PacsFieldKind.Text, true),
    ];

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/o3-dpacs-wado").WithTags("PACS: studies").RequireAuthorization(Scopes.StudiesWrite);
        group.MapPost("/studies/reconcile", Reconcile).WithName("PacsReconcileStudies")
            .Produces<CorrectionResponse>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/studies/swap", Swap).WithName("PacsSwapSeries")
            .Produces<CorrectionResponse>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static Task<IResult> Reconcile(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, IDocumentStore store, CancellationToken cancellation) =>
        PacsPatientsModule.WithBody(request, ReconcileFields, async v =>
        {
            if (Same(v) is { } same)
            {
                return same;
            }

            // Document e: "the check is done only on PatientID" (one PatientID under several issuers: 409).
            var (patient, problem) = await PacsPatientsModule.ResolveAsync(store, user, v["patientID"], "patient", mustExist: false, cancellation);
            if (problem is not null)
            {
                return problem;
            }

            var command = new ReconcileStudies(
                v["sourceStudyInstanceUID"], v["targetStudyInstanceUID"], patient!,
                new PatientDemographics(v["patientID"], null, v.GetValueOrDefault("patientName"), v.GetValueOrDefault("patientBirthDate"), v.GetValueOrDefault("patientSex")),
                v.GetValueOrDefault("accessionNumber"), v.GetValueOrDefault("studyDescription"), v.GetValueOrDefault("studyDate"), v["userName"], user.Actor(Via));
            return PacsPatientsModule.Answer(await bus.InvokeForCallerAsync<CommandResult<CorrectionResponse>>(user, command, cancellation));
        }, cancellation);

    private static Task<IResult> Swap(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, CancellationToken cancellation) =>
        PacsPatientsModule.WithBody(request, SwapFields, async v => Same(v) ?? PacsPatientsModule.Answer(await bus.InvokeForCallerAsync<CommandResult<CorrectionResponse>>(
            user, new SwapSeries(v["sourceStudyInstanceUID"], v["targetStudyInstanceUID"], v["userName"], user.Actor(Via)), cancellation)), cancellation);

    /// <summary>A study reconciled or swapped with itself is not a valid body (400).</summary>
    private static IResult? Same(Dictionary<string, string> v) =>
        v["sourceStudyInstanceUID"] == v["targetStudyInstanceUID"]
            ? Problems.Validation([("targetStudyInstanceUID", "'targetStudyInstanceUID' must differ from 'sourceStudyInstanceUID'.")])
            : null;
}
