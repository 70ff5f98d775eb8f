using EventSourced.Web.Shared.Errors;
using Microsoft.Extensions.Primitives;

namespace EventSourced.Web.Archive;

/// <summary>
/// Document d's calls under <c>/api/v1/</c>, spelled as the document spells them (with the trailing slash;
/// ASP.NET Core routing matches the same path without it too). Every documented path answers any other
/// method with <c>405 method_not_allowed</c> in the document's shape (<see cref="MapMethodNotAllowed"/>).
/// </summary>
public static class ArchiveRoutes
{
    public const string Prefix = "/api/v1";
    public const string InstanceUpload = Prefix + "/instance/upload/";
    public const string PatientGet = Prefix + "/patient/get/";
    public const string PatientStudiesList = Prefix + "/patient/studies/list/";
    public const string StudyGet = Prefix + "/study/get/";
    public const string SeriesList = Prefix + "/patient/study/series/list/";
    public const string SeriesGet = Prefix + "/series/get/";
    public const string DicomGet = Prefix + "/dicom/get/";
    public const string PatientDelete = Prefix + "/patient/delete/";
    public const string StudyDelete = Prefix + "/study/delete/";
    public const string SeriesDelete = Prefix + "/series/delete/";

    /// <summary>Ours, not the document's: undo a delete within the restore window (docs/api-compatibility.md).</summary>
    public const string StudyRestore = Prefix + "/study/restore/";
    public const string SeriesResults = Prefix + "/series/results/";
    public const string FormsList = Prefix + "/patient/study/series/forms/list/";
    public const string FormsAdd = Prefix + "/patient/study/series/forms/add/";

    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

    /// <summary>
    /// Any other path under /api/v1 (an unknown call): 404 in
    /// the document's shape rather than a problem document. Like every route, it needs a principal.
    /// </summary>
    public static void MapUnknownCalls(this IEndpointRouteBuilder app) =>
        app.Map(Prefix + "/{**call}", (HttpContext context) => ArchiveErrors.Error(ArchiveErrors.ObjectNotFound, "api_call_not_found",
                $"There is no API call {context.Request.Path}."))
            .ExcludeFromDescription();

    /// <summary>Routing's own 405 has an empty body; document d's clients read error_type. Like every route, it needs a principal (401 first).</summary>
    public static void MapMethodNotAllowed(this IEndpointRouteBuilder app, string path, string allowed)
    {
        app.MapMethods(path, Methods.Where(m => m != allowed), (HttpContext context) =>
            {
                context.Response.Headers.Allow = new StringValues(allowed);
                return ArchiveErrors.Error(ArchiveErrors.MethodNotAllowed, null,
                    $"{context.Request.Method} is not allowed on {path}; use {allowed}.");
            })
            .ExcludeFromDescription();
    }
}

/// <summary>The query or form parameters of a call, read by the names the document gives them.</summary>
public static class ArchiveParameters
{
    /// <summary>
    /// The named query parameters (names matched without regard to case), trimmed. Missing or blank ones
    /// give <c>400 missing_parameter</c> naming each of them.
    /// </summary>
    public static bool TryRead(HttpRequest request, string[] names, out Dictionary<string, string> values, out IResult? error)
    {
        values = new Dictionary<string, string>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var name in names)
        {
            var value = request.Query[name].ToString().Trim();
            if (value.Length == 0)
            {
                missing.Add(name);
            }
            else
            {
                values[name] = value;
            }
        }

        error = missing.Count == 0
            ? null
            : ArchiveErrors.Error(ArchiveErrors.MissingParameter, null, $"Missing parameter(s): {string.Join(", ", missing)}.");
        return error is null;
    }
}
