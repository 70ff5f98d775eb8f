using System.Security.Claims;
using Carter;
using EventSourced.Application.Archive.DeletingContent;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using EventSourced.Web.Shared.Errors;
using Wolverine;

namespace EventSourced.Web.Archive;

/// <summary>
/// Document d's delete calls (patient, study, series: GET, as the document says) and our restore beside
/// them. A delete withdraws what the Project/Archive holds of the object; an instance filed in no other
/// archive leaves every read path. Within the restore window (<c>Deletion:RestoreWindow</c>) our restore
/// brings the study's latest delete from that archive back (docs/api-compatibility.md, "Document d: delete").
/// </summary>
public sealed class ArchiveDeleteModule : ICarterModule
{
    private const string Via = "archive-api";
    private static readonly string[] PatientKeys = ["Project", "Archive", "PatientID"];
    private static readonly string[] StudyKeys = [.. PatientKeys, "StudyInstanceUID"];
    private static readonly string[] SeriesKeys = [.. StudyKeys, "SeriesInstanceUID"];
    private static readonly string[] RestoreKeys = ["Project", "Archive", "StudyInstanceUID"];

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        Map(app, ArchiveRoutes.PatientDelete, "ArchiveDeletePatient", Scopes.Archive.DeletePatient, DeletePatient);
        Map(app, ArchiveRoutes.StudyDelete, "ArchiveDeleteStudy", Scopes.Archive.DeleteStudy, DeleteStudy);
        Map(app, ArchiveRoutes.SeriesDelete, "ArchiveDeleteSeries", Scopes.Archive.DeleteSeries, DeleteSeries);
        app.MapPost(ArchiveRoutes.StudyRestore, RestoreStudy).WithTags("Archive API v1").WithName("ArchiveRestoreStudy")
            .RequireAuthorization(Scopes.Archive.DeleteStudy);
        app.MapMethodNotAllowed(ArchiveRoutes.StudyRestore, "POST");
    }

    private static void Map(IEndpointRouteBuilder app, string path, string name, string scope, Delegate handler)
    {
        app.MapGet(path, handler).WithTags("Archive API v1").WithName(name).RequireAuthorization(scope);
        app.MapMethodNotAllowed(path, "GET");
    }

    private static async Task<IResult> DeletePatient(HttpContext context, IMessageBus bus, CancellationToken cancellation)
    {
        if (!ArchiveParameters.TryRead(context.Request, PatientKeys, out var p, out var error))
        {
            return error!;
        }

        var studies = await ArchiveQueryModule.Reader(context).StudiesOfPatientAsync(p["Project"], p["Archive"], p["PatientID"], cancellation);
        return await DeleteAsync(context, bus, p, [.. studies.Select(s => s.StudyInstanceUid)], null, "patient/delete", "patient_not_found",
            $"No patient '{p["PatientID"]}' in this project's archive.", cancellation);
    }

    private static Task<IResult> DeleteStudy(HttpContext context, IMessageBus bus, CancellationToken cancellation) =>
        ArchiveParameters.TryRead(context.Request, StudyKeys, out var p, out var error)
            ? DeleteAsync(context, bus, p, [p["StudyInstanceUID"]], null, "study/delete", "study_not_found",
                $"No study '{p["StudyInstanceUID"]}' of this patient in this project's archive.", cancellation)
            : Task.FromResult(error!);

    private static Task<IResult> DeleteSeries(HttpContext context, IMessageBus bus, CancellationToken cancellation) =>
        ArchiveParameters.TryRead(context.Request, SeriesKeys, out var p, out var error)
            ? DeleteAsync(context, bus, p, [p["StudyInstanceUID"]], p["SeriesInstanceUID"], "series/delete", "series_not_found",
                $"No series '{p["SeriesInstanceUID"]}' of this study in this project's archive.", cancellation)
            : Task.FromResult(error!);

    private static async Task<IResult> DeleteAsync(
        HttpContext context, IMessageBus bus, Dictionary<string, string> p, IReadOnlyList<string> studies, string? series,
        string call, string notFound, string notFoundMessage, CancellationToken cancellation)
    {
        if (studies.Count == 0)
        {
            return ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, notFound, notFoundMessage);
        }

        var outcome = await bus.InvokeForCallerAsync<DeletionOutcome>(context.User, new DeleteArchiveContent(
            new ArchivePlacement(p["Project"], p["Archive"]), p["PatientID"], studies, series,
            $"document d {call}", context.User.Actor(Via)), cancellation);
        return outcome.Refused switch
        {
            null => TypedResults.Json(new StatusAnswer("Ok")),
            DeletionRefusal.DeprecationPending => Locked(),
            _ => ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, notFound, notFoundMessage),
        };
    }

    /// <summary>Ours: <c>POST /api/v1/study/restore/?Project&amp;Archive&amp;StudyInstanceUID</c>, undoes the study's latest delete from that archive.</summary>
    private static async Task<IResult> RestoreStudy(HttpContext context, ClaimsPrincipal user, IMessageBus bus, CancellationToken cancellation)
    {
        if (!ArchiveParameters.TryRead(context.Request, RestoreKeys, out var p, out var error))
        {
            return error!;
        }

        if (!ArchivePlacement.IsValidName(p["Project"]) || !ArchivePlacement.IsValidName(p["Archive"]))
        {
            return NothingToRestore(p["StudyInstanceUID"]);
        }

        var outcome = await bus.InvokeForCallerAsync<DeletionRestoreOutcome>(user, new RestoreDeletedContent(
            new ArchivePlacement(p["Project"], p["Archive"]), p["StudyInstanceUID"], "restore of a document d delete", user.Actor(Via)), cancellation);
        return outcome.Refused switch
        {
            null => TypedResults.Json(new RestoreAnswer("Ok", outcome.Restored, outcome.Refiled)),
            DeletionRefusal.DeprecationPending => Locked(),
            _ => NothingToRestore(p["StudyInstanceUID"]),
        };
    }

    private static IResult NothingToRestore(string studyUid) =>
        ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, "deleted_study_not_found",
            $"No delete of study '{studyUid}' from this project's archive can be restored (none, already restored, or past the restore window).");

    private static IResult Locked() =>
        ArchiveErrors.Error(ArchiveErrors.ObjectLocked, null, "A deprecation of the study is pending; try again when it has completed.");

    private sealed record StatusAnswer([property: System.Text.Json.Serialization.JsonPropertyName("status")] string Status);

    private sealed record RestoreAnswer(
        [property: System.Text.Json.Serialization.JsonPropertyName("status")] string Status,
        [property: System.Text.Json.Serialization.JsonPropertyName("restored_instances")] int RestoredInstances,
        [property: System.Text.Json.Serialization.JsonPropertyName("refiled_instances")] int RefiledInstances);
}
