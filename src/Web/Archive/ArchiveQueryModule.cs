using System.Security.Claims;
using Carter;
using EventSourced.Application.Blobs;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Studies;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using EventSourced.Web.Shared.Errors;
using EventSourced.Web.Shared.Zip;
using Marten;

namespace EventSourced.Web.Archive;

/// <summary>
/// Document d, patient, study and series commands: get and list, and the series' DICOM files as a zip.
/// Each call needs its permission (the document's "Permission", a scope of the principal). Data are
/// scoped by Project and Archive: only what was uploaded there is found there.
/// </summary>
public sealed class ArchiveQueryModule : ICarterModule
{
    private static readonly string[] PatientKeys = ["Project", "Archive", "PatientID"];
    private static readonly string[] StudyKeys = [.. PatientKeys, "StudyInstanceUID"];
    private static readonly string[] SeriesKeys = [.. StudyKeys, "SeriesInstanceUID"];

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        Map(app, ArchiveRoutes.PatientGet, "ArchiveGetPatient", Scopes.Archive.GetPatient, GetPatient);
        Map(app, ArchiveRoutes.PatientStudiesList, "ArchiveListStudies", Scopes.Archive.ListStudies, ListStudies);
        Map(app, ArchiveRoutes.StudyGet, "ArchiveGetStudy", Scopes.Archive.GetStudy, GetStudy);
        Map(app, ArchiveRoutes.SeriesList, "ArchiveListSeries", Scopes.Archive.ListSeries, ListSeries);
        Map(app, ArchiveRoutes.SeriesGet, "ArchiveGetSeries", Scopes.Archive.GetSeries, GetSeries);
        Map(app, ArchiveRoutes.DicomGet, "ArchiveGetSeriesDicom", Scopes.Archive.DicomGet, GetSeriesDicom);
        app.MapUnknownCalls();
    }

    private static void Map(IEndpointRouteBuilder app, string path, string name, string scope, Delegate handler)
    {
        app.MapGet(path, handler).WithTags("Archive API v1").WithName(name).RequireAuthorization(scope);
        app.MapMethodNotAllowed(path, "GET");
    }

    internal static ArchiveReader Reader(HttpContext context)
    {
        var session = context.RequestServices.GetRequiredService<IDocumentStore>().QuerySessionForCaller(context.User);
        context.Response.RegisterForDisposeAsync(session);
        return new(session, context.User.TenantId());
    }

    private static IResult PatientNotFound(string patientId) =>
        ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, "patient_not_found", $"No patient '{patientId}' in this project's archive.");

    private static IResult StudyNotFound(string studyUid) =>
        ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, "study_not_found", $"No study '{studyUid}' of this patient in this project's archive.");

    private static IResult SeriesNotFound(string seriesUid) =>
        ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, "series_not_found", $"No series '{seriesUid}' of this study in this project's archive.");

    private static async Task<IResult> GetPatient(HttpContext context, CancellationToken cancellation)
    {
        if (!ArchiveParameters.TryRead(context.Request, PatientKeys, out var p, out var error))
        {
            return error!;
        }

        var reader = Reader(context);
        var studies = await reader.StudiesOfPatientAsync(p["Project"], p["Archive"], p["PatientID"], cancellation);
        return studies.Count == 0
            ? PatientNotFound(p["PatientID"])
            : TypedResults.Json(await reader.PatientAsync(p["PatientID"], studies, cancellation));
    }

    private static async Task<IResult> ListStudies(HttpContext context, CancellationToken cancellation)
    {
        if (!ArchiveParameters.TryRead(context.Request, PatientKeys, out var p, out var error))
        {
            return error!;
        }

        var reader = Reader(context);
        var studies = await reader.StudiesOfPatientAsync(p["Project"], p["Archive"], p["PatientID"], cancellation);
        return studies.Count == 0
            ? PatientNotFound(p["PatientID"])
            : TypedResults.Json(await reader.StudyResponsesAsync(studies, cancellation));
    }

    private static async Task<IResult> GetStudy(HttpContext context, CancellationToken cancellation)
    {
        if (!ArchiveParameters.TryRead(context.Request, StudyKeys, out var p, out var error))
        {
            return error!;
        }

        var reader = Reader(context);
        var study = await reader.StudyAsync(p["Project"], p["Archive"], p["PatientID"], p["StudyInstanceUID"], cancellation);
        return study is null
            ? StudyNotFound(p["StudyInstanceUID"])
            : TypedResults.Json((await reader.StudyResponsesAsync([study], cancellation))[0]);
    }

    private static async Task<IResult> ListSeries(HttpContext context, CancellationToken cancellation)
    {
        if (!ArchiveParameters.TryRead(context.Request, StudyKeys, out var p, out var error))
        {
            return error!;
        }

        var reader = Reader(context);
        var study = await reader.StudyAsync(p["Project"], p["Archive"], p["PatientID"], p["StudyInstanceUID"], cancellation);
        return study is null
            ? StudyNotFound(p["StudyInstanceUID"])
            : TypedResults.Json(await reader.SeriesResponsesAsync(await reader.SeriesOfStudyAsync(study, cancellation), cancellation));
    }

    private static async Task<IResult> GetSeries(HttpContext context, CancellationToken cancellation)
    {
        if (!ArchiveParameters.TryRead(context.Request, SeriesKeys, out var p, out var error))
        {
            return error!;
        }

        var reader = Reader(context);
        var series = await reader.SeriesAsync(p["Project"], p["Archive"], p["PatientID"], p["StudyInstanceUID"], p["SeriesInstanceUID"], cancellation);
        return series is null
            ? SeriesNotFound(p["SeriesInstanceUID"])
            : TypedResults.Json((await reader.SeriesResponsesAsync([series], cancellation))[0]);
    }

    /// <summary>
    /// The series' stored files as a zip, streamed: entries are written straight to the response as
    /// each blob is read (stored, not deflated: DICOM pixel data compresses poorly and deflating costs
    /// CPU per byte served). no_dicom_available when none of the series' files can be read.
    /// </summary>
    private static async Task<IResult> GetSeriesDicom(HttpContext context, IBlobStore blobs, CancellationToken cancellation)
    {
        if (!ArchiveParameters.TryRead(context.Request, SeriesKeys, out var p, out var error))
        {
            return error!;
        }

        var reader = Reader(context);
        var series = await reader.SeriesAsync(p["Project"], p["Archive"], p["PatientID"], p["StudyInstanceUID"], p["SeriesInstanceUID"], cancellation);
        if (series is null)
        {
            return SeriesNotFound(p["SeriesInstanceUID"]);
        }

        await using var session = context.RequestServices.GetRequiredService<IDocumentStore>().QuerySessionForCaller(context.User);
        var locations = (await InstanceLocations.AmongAsync(session, series.StudyInstanceUid, [.. series.Instances], cancellation))
            .Where(l => blobs.Exists(l.Sha256))
            .OrderBy(l => l.InstanceNumber ?? long.MaxValue).ThenBy(l => l.Id, StringComparer.Ordinal)
            .ToList();
        if (locations.Count == 0)
        {
            return ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, "no_dicom_available", $"No DICOM file of series '{series.ArchiveSeriesUid}' is available.");
        }

        // Names: {SOPInstanceUID}.dcm. Instances of a study whose patient was corrected are served
        // coerced (Shared/Retrieval/CoercedRetrieval), built in memory; the others stream from the blob.
        var coercion = await Shared.Retrieval.CoercedRetrieval.ForStudiesAsync(session, blobs, [series.StudyInstanceUid], cancellation);
        var entries = new List<ZipEntrySource>(locations.Count);
        foreach (var l in locations)
        {
            entries.Add(!coercion.Coerces(l)
                ? ZipEntrySource.Blob($"{SafeName(l.Id)}.dcm", l.Sha256, l.StoredAt, $"instance {l.Id}")
                : ZipEntrySource.Bytes($"{SafeName(l.Id)}.dcm", await coercion.ReadAllAsync(l, cancellation)));
        }

        return new ZipStreamResult(entries, blobs, $"{SafeName(series.ArchiveSeriesUid)}.zip");
    }

    /// <summary>Digits, letters, dots, dashes and underscores: what the document recommends for file names.</summary>
    internal static string SafeName(string name) =>
        new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')]);
}
