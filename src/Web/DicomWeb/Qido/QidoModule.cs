using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Carter;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Qido;
using EventSourced.Web.Infrastructure;
using Marten;
using Marten.Linq.MatchesSql;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.DicomWeb.Qido;

/// <summary>
/// QIDO-RS (PS3.18 §10.6) at its six resources under /dicomweb, on the inline QIDO read models. The
/// query is translated to one SQL predicate on the level's table (MatchesSql inside a LINQ query, so
/// Marten adds the tenant filter, the order and the paging); conditions on a higher level become a
/// sub-select on that level's table. Conformance: docs/dicomweb-conformance.md, "QIDO-RS".
/// </summary>
public sealed class QidoModule : ICarterModule
{
    public const string DicomJson = "application/dicom+json";

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        // studies.read, or a viewer token restricted to the path's or forced study (ViewerStudyRestriction).
        var group = app.MapGroup("/dicomweb").WithTags("DICOMweb: QIDO-RS").RestrictedToViewerStudy();

        group.MapGet("/studies", (HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
                SearchAsync(http, user, store, QidoLevel.Study, null, null, ct, offerXml: true))
            .WithName("QidoSearchStudies");
        group.MapGet("/series", (HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
                SearchAsync(http, user, store, QidoLevel.Series, null, null, ct, offerXml: true))
            .WithName("QidoSearchSeries");
        group.MapGet("/studies/{study}/series", (string study, HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
                SearchAsync(http, user, store, QidoLevel.Series, study, null, ct, offerXml: true))
            .WithName("QidoSearchSeriesOfStudy");
        group.MapGet("/instances", (HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
                SearchAsync(http, user, store, QidoLevel.Instance, null, null, ct, offerXml: true))
            .WithName("QidoSearchInstances");
        group.MapGet("/studies/{study}/instances", (string study, HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
                SearchAsync(http, user, store, QidoLevel.Instance, study, null, ct, offerXml: true))
            .WithName("QidoSearchInstancesOfStudy");
        group.MapGet("/studies/{study}/series/{series}/instances", (string study, string series, HttpContext http, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct) =>
                SearchAsync(http, user, store, QidoLevel.Instance, study, series, ct, offerXml: true))
            .WithName("QidoSearchInstancesOfSeries");
    }

    /// <summary>
    /// The search itself, also used by the vendor dialects that are QIDO underneath (document c's exams
    /// queries): <paramref name="parameters"/> replaces the request's query string, and
    /// <paramref name="emptyAsArray"/> answers no match with 200 and <c>[]</c> instead of 204.
    /// </summary>
    internal static async Task<IResult> SearchAsync(
        HttpContext http, ClaimsPrincipal user, IDocumentStore store, QidoLevel level, string? study, string? series, CancellationToken cancellation,
        IQueryCollection? parameters = null, bool emptyAsArray = false, string contentType = DicomJson, bool offerXml = false)
    {
        var answerAs = offerXml ? DicomWebMediaTypes.ChooseMetadata(http.Request)
            : DicomWebMediaTypes.AcceptsDicomJson(http.Request) ? DicomJson : null;
        if (answerAs is null)
        {
            return Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable", offerXml
                ? $"QIDO-RS answers {DicomJson} (or application/json), or multipart/related; type=\"{DicomWebMediaTypes.DicomXml}\"."
                : $"This search answers {DicomJson} (or application/json) only.");
        }

        var (query, error) = QidoQuery.Parse(parameters ?? http.Request.Query, level,
            http.RequestServices.GetRequiredService<IConfiguration>().GetValue("Qido:CaseSensitivePersonNames", false));
        if (query is null)
        {
            return Problems.BadRequest(error!);
        }

        if (new[] { study, series }.OfType<string>().FirstOrDefault(uid => !QidoQuery.IsUid(uid)) is { } bad)
        {
            return Problems.BadRequest($"The path's UID '{bad}' is not a UID.");
        }

        await using var session = store.QuerySessionForCaller(user);
        var sql = new QidoSql(store);
        var baseUrl = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/dicomweb";
        var results = new JsonArray();
        bool more;
        switch (level)
        {
            case QidoLevel.Study:
            {
                var page = await sql.Filter(session.Query<QidoStudy>(), query, level, null, null)
                    .OrderByDescending(x => x.ReceivedAt).ThenBy(x => x.StudyInstanceUid)
                    .Skip(query.Offset).Take(query.Limit + 1).ToListAsync(cancellation);
                more = page.Count > query.Limit;
                foreach (var s in page.Take(query.Limit))
                {
                    results.Add(StudyDataset(new QidoDataset(), s, query, baseUrl).ToJson());
                }

                break;
            }

            case QidoLevel.Series:
            {
                var page = await sql.Filter(session.Query<QidoSeries>(), query, level, study, null)
                    .OrderBy(x => x.StudyInstanceUid).ThenBy(x => x.SeriesNumber).ThenBy(x => x.SeriesInstanceUid)
                    .Skip(query.Offset).Take(query.Limit + 1).ToListAsync(cancellation);
                more = page.Count > query.Limit;
                var studies = await LoadAsync<QidoStudy>(session, page.Select(x => x.StudyKey), x => x.Id, cancellation);
                foreach (var s in page.Take(query.Limit))
                {
                    var dataset = SeriesDataset(new QidoDataset(), s, query, baseUrl);
                    if (studies.TryGetValue(s.StudyKey, out var parent))
                    {
                        // The study's attributes when the study is not in the path; else only those asked for.
                        _ = study is null
                            ? StudyDataset(dataset, parent, query, baseUrl, retrieveUrl: false)
                            : dataset.Copy(parent.Attributes, query.IncludeFields, emptyIfAbsent: false);
                    }

                    results.Add(dataset.ToJson());
                }

                break;
            }

            default:
            {
                var page = await sql.Filter(session.Query<QidoInstance>(), query, level, study, series)
                    .OrderBy(x => x.StudyInstanceUid).ThenBy(x => x.SeriesInstanceUid).ThenBy(x => x.InstanceNumber).ThenBy(x => x.SopInstanceUid)
                    .Skip(query.Offset).Take(query.Limit + 1).ToListAsync(cancellation);
                more = page.Count > query.Limit;
                var studies = study is null ? await LoadAsync<QidoStudy>(session, page.Select(x => x.StudyKey), x => x.Id, cancellation) : null;
                var seriesDocs = series is null ? await LoadAsync<QidoSeries>(session, page.Select(x => x.SeriesKey), x => x.Id, cancellation) : null;
                foreach (var i in page.Take(query.Limit))
                {
                    var url = $"{baseUrl}/studies/{i.StudyInstanceUid}/series/{i.SeriesInstanceUid}/instances/{i.SopInstanceUid}";
                    var dataset = new QidoDataset();
                    if (query.IncludeAll)
                    {
                        dataset.CopyAll(i.Header);
                    }

                    dataset.CopyRequired(i.Header, QidoDataset.InstanceRequired, query).InstanceComputed(url);
                    if (seriesDocs is not null && seriesDocs.TryGetValue(i.SeriesKey, out var parentSeries))
                    {
                        SeriesDataset(dataset, parentSeries, query, baseUrl, retrieveUrl: false);
                    }

                    if (studies is not null && studies.TryGetValue(i.StudyKey, out var parentStudy))
                    {
                        StudyDataset(dataset, parentStudy, query, baseUrl, retrieveUrl: false);
                    }

                    results.Add(dataset.ToJson());
                }

                break;
            }
        }

        if (results.Count == 0 && !emptyAsArray)
        {
            // PS3.18 §8.3.4.4.1 (2025b): no match is 204 No Content with an empty payload. CP-2473 would make it 200.
            return TypedResults.NoContent();
        }

        // PS3.18 §8.3.4.4.1: more matches than returned, and a limit the server lowered, are said with Warning headers.
        var warnings = new List<string>();
        if (query.LimitLowered)
        {
            warnings.Add($"299 {http.Request.Host}: \"The limit was lowered to the maximum of {QidoQuery.MaxLimit}.\"");
        }

        if (more)
        {
            warnings.Add($"299 {http.Request.Host}: \"There are more matching results than returned; ask again with offset={query.Offset + query.Limit}.\"");
        }

        if (warnings.Count > 0)
        {
            http.Response.Headers[HeaderNames.Warning] = warnings.ToArray();
        }

        if (answerAs == DicomWebMediaTypes.DicomXml)
        {
            // PS3.18 §8.7.5: the XML answer is multipart/related, one Native DICOM Model document per match.
            var matches = JsonSerializer.SerializeToElement(results).EnumerateArray().ToList();
            return Results.Extensions.Xml(matches);
        }

        return Results.Bytes(JsonSerializer.SerializeToUtf8Bytes(results), contentType);
    }

    private static QidoDataset StudyDataset(QidoDataset dataset, QidoStudy study, QidoQuery query, string baseUrl, bool retrieveUrl = true)
    {
        if (query.IncludeAll)
        {
            dataset.CopyAll(study.Attributes);
        }

        return dataset.CopyRequired(study.Attributes, QidoDataset.StudyRequired, query)
            .StudyComputed(study, retrieveUrl ? $"{baseUrl}/studies/{study.StudyInstanceUid}" : null);
    }

    private static QidoDataset SeriesDataset(QidoDataset dataset, QidoSeries series, QidoQuery query, string baseUrl, bool retrieveUrl = true)
    {
        if (query.IncludeAll)
        {
            dataset.CopyAll(series.Attributes);
        }

        return dataset.CopyRequired(series.Attributes, QidoDataset.SeriesRequired, query)
            .SeriesComputed(series, retrieveUrl ? $"{baseUrl}/studies/{series.StudyInstanceUid}/series/{series.SeriesInstanceUid}" : null);
    }

    private static async Task<Dictionary<Guid, T>> LoadAsync<T>(IQuerySession session, IEnumerable<Guid> ids, Func<T, Guid> idOf, CancellationToken cancellation)
        where T : notnull
    {
        var distinct = ids.Distinct().ToArray();
        if (distinct.Length == 0)
        {
            return [];
        }

        var documents = await session.LoadManyAsync<T>(cancellation, distinct);
        return documents.ToDictionary(idOf);
    }

    /// <summary>application/dicom+json, application/json, or a wildcard covering them (PS3.18 §8.7.3); no Accept means any.</summary>
}
