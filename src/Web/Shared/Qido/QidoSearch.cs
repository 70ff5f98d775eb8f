using System.Security.Claims;
using System.Text.Json;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Qido;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Shared.DicomWeb;
using Marten;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.Shared.Qido;

/// <summary>
/// The QIDO-RS search (PS3.18 §10.6) on the inline QIDO read models, for every dialect that is QIDO
/// underneath: DICOMweb's six search resources and document c's exams queries. The query is
/// translated to one SQL predicate on the level's table (QidoSql); conditions on a higher level become a
/// sub-select on that level's table. Each level is paged by one statement of its own with the tenant filter,
/// the order and the paging (QidoRows.Page: a study page, and a series or instance page after the first, sorts keys
/// and opens only the page's records), read row by row (QidoRows).
/// </summary>
public static class QidoSearch
{
    /// <summary>How long one search may wait for the database (<c>Qido:CommandTimeout</c>).</summary>
    public static readonly TimeSpan DefaultCommandTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <paramref name="parameters"/> replaces the request's query string, and <paramref name="emptyAsArray"/>
    /// answers no match with 200 and <c>[]</c> instead of 204.
    /// </summary>
    public static async Task<IResult> SearchAsync(
        HttpContext http, ClaimsPrincipal user, IDocumentStore store, QidoLevel level, string? study, string? series, CancellationToken cancellation,
        IQueryCollection? parameters = null, bool emptyAsArray = false, string contentType = DicomWebMediaTypes.DicomJson, bool offerXml = false)
    {
        var answerAs = offerXml ? DicomWebMediaTypes.ChooseMetadata(http.Request)
            : DicomWebMediaTypes.AcceptsDicomJson(http.Request) ? DicomWebMediaTypes.DicomJson : null;
        if (answerAs is null)
        {
            return Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable", offerXml
                ? $"QIDO-RS answers {DicomWebMediaTypes.DicomJson} (or application/json), or multipart/related; type=\"{DicomWebMediaTypes.DicomXml}\"."
                : $"This search answers {DicomWebMediaTypes.DicomJson} (or application/json) only.");
        }

        var configuration = http.RequestServices.GetRequiredService<IConfiguration>();
        var (query, error) = QidoQuery.Parse(parameters ?? http.Request.Query, level, configuration.GetValue("Qido:CaseSensitivePersonNames", false));
        if (query is null)
        {
            return Problems.BadRequest(error!);
        }

        if (new[] { study, series }.OfType<string>().FirstOrDefault(uid => !QidoQuery.IsUid(uid)) is { } bad)
        {
            return Problems.BadRequest($"The path's UID '{bad}' is not a UID.");
        }

        // A bounded wait: a search the database cannot answer in time is a 503 with Retry-After, not a hung request.
        await using var session = store.QuerySessionForCaller(user, configuration.GetValue("Qido:CommandTimeout", DefaultCommandTimeout));
        var search = new Search(session, new QidoSql(store), query, study, series,
            $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/dicomweb", cancellation);
        var (results, more) = level switch
        {
            QidoLevel.Study => await search.StudiesAsync(),
            QidoLevel.Series => await search.SeriesAsync(),
            _ => await search.InstancesAsync(),
        };

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
            var matches = results.Select(r => r.ToElement()).ToList();
            return Results.Extensions.Xml(matches);
        }

        return new PooledJsonResult(writer => QidoDataset.WriteArray(writer, results), contentType);
    }

    /// <summary>One search: each level pages its own table in its own order, then adds its parents' attributes.</summary>
    private sealed record Search(IQuerySession Session, QidoSql Sql, QidoQuery Query, string? Study, string? Series, string BaseUrl, CancellationToken Cancellation)
    {
        public async Task<(List<QidoDataset> Results, bool More)> StudiesAsync()
        {
            // One statement: the page's keys on the record's columns, then only what an answer shows of those records.
            var (page, more) = await PageAsync(QidoLevel.Study, p => QidoStudySummary.Page(Sql.StudyTable, p), QidoStudySummary.ReadAsync, Session.TenantId);
            return ([.. page.Select(s => StudyDataset(new QidoDataset(), s))], more);
        }

        public async Task<(List<QidoDataset> Results, bool More)> SeriesAsync()
        {
            // After the first page, the keys first: the rows the offset skips are not opened.
            var (page, more) = await PageAsync(QidoLevel.Series, p => QidoSeriesSummary.Page(Sql.SeriesTable, p, KeysFirst), QidoSeriesSummary.ReadAsync, AfterPage);
            // A study in the path adds only the fields asked for: none asked, no study record read.
            var studies = Study is not null && Query.IncludeFields.Count == 0 ? [] : await StudiesOfAsync(page.Select(x => x.StudyKey));
            var results = new List<QidoDataset>(page.Count);
            foreach (var s in page)
            {
                var dataset = SeriesDataset(new QidoDataset(), s);
                if (studies.TryGetValue(s.StudyKey, out var parent))
                {
                    // The study's attributes when the study is not in the path; else only those asked for.
                    _ = Study is null
                        ? StudyDataset(dataset, parent, retrieveUrl: false)
                        : dataset.Copy(parent.Attributes, Query.IncludeFields, emptyIfAbsent: false);
                }

                results.Add(dataset);
            }

            return (results, more);
        }

        public async Task<(List<QidoDataset> Results, bool More)> InstancesAsync()
        {
            var (page, more) = await PageAsync(QidoLevel.Instance, p => QidoInstanceSummary.Page(Sql.InstanceTable, p, KeysFirst), QidoInstanceSummary.ReadAsync, AfterPage);
            var studies = Study is null ? await StudiesOfAsync(page.Select(x => x.StudyKey)) : null;
            var seriesDocs = Series is null ? await SeriesOfAsync(page.Select(x => x.SeriesKey)) : null;
            // Patient corrections: instance headers show the study's current patient (Shared/Retrieval/CoercedRetrieval).
            var coercion = await Retrieval.CoercedRetrieval.ForHeadersAsync(Session, page.Select(x => x.StudyInstanceUid), Cancellation);
            var results = new List<QidoDataset>(page.Count);
            foreach (var i in page)
            {
                var url = $"{BaseUrl}/studies/{i.StudyInstanceUid}/series/{i.SeriesInstanceUid}/instances/{i.SopInstanceUid}";
                var dataset = new QidoDataset();
                var header = coercion.Header(i.StudyInstanceUid, i.Header);
                if (Query.IncludeAll)
                {
                    dataset.CopyAll(header);
                }

                dataset.CopyRequired(header, QidoDataset.InstanceRequired, Query).InstanceComputed(url);
                if (seriesDocs is not null && seriesDocs.TryGetValue(i.SeriesKey, out var parentSeries))
                {
                    SeriesDataset(dataset, parentSeries, retrieveUrl: false);
                }

                if (studies is not null && studies.TryGetValue(i.StudyKey, out var parentStudy))
                {
                    StudyDataset(dataset, parentStudy, retrieveUrl: false);
                }

                results.Add(dataset);
            }

            return (results, more);
        }

        /// <summary>Whether a series or instance page is read keys first (<see cref="QidoRows.Page"/>): any page after the first.</summary>
        private bool KeysFirst => Query.Offset > 0;

        /// <summary>The parameters a series or instance page takes after its limit: the tenant again when read keys first.</summary>
        private object[] AfterPage => KeysFirst ? [Session.TenantId] : [];

        /// <summary>
        /// The level's page: <paramref name="page"/>'s statement over the search's predicate, its parameters the tenant, the
        /// predicate's values, the offset, one more than the limit (that one tells whether there are more matches), then
        /// <paramref name="after"/>.
        /// </summary>
        private async Task<(IReadOnlyList<T> Page, bool More)> PageAsync<T>(
            QidoLevel level, Func<string?, string> page, Func<IQuerySession, string, CancellationToken, object[], Task<List<T>>> read, params object[] after)
        {
            var (predicate, values) = Sql.Predicate(Session.TenantId, Query, level, Study, Series);
            var rows = await read(Session, page(predicate), Cancellation, [Session.TenantId, .. values, Query.Offset, Query.Limit + 1, .. after]);
            return ([.. rows.Take(Query.Limit)], rows.Count > Query.Limit);
        }

        private QidoDataset StudyDataset(QidoDataset dataset, QidoStudySummary study, bool retrieveUrl = true)
        {
            if (Query.IncludeAll)
            {
                dataset.CopyAll(study.Attributes);
            }

            return dataset.CopyRequired(study.Attributes, QidoDataset.StudyRequired, Query)
                .StudyComputed(study, retrieveUrl ? $"{BaseUrl}/studies/{study.StudyInstanceUid}" : null);
        }

        private QidoDataset SeriesDataset(QidoDataset dataset, QidoSeriesSummary series, bool retrieveUrl = true)
        {
            if (Query.IncludeAll)
            {
                dataset.CopyAll(series.Attributes);
            }

            return dataset.CopyRequired(series.Attributes, QidoDataset.SeriesRequired, Query)
                .SeriesComputed(series, retrieveUrl ? $"{BaseUrl}/studies/{series.StudyInstanceUid}/series/{series.SeriesInstanceUid}" : null);
        }

        /// <summary>The records of the studies <paramref name="keys"/> (the tenant's, by key), as much as an answer shows of them.</summary>
        private Task<Dictionary<Guid, QidoStudySummary>> StudiesOfAsync(IEnumerable<Guid> keys) =>
            ByKeysAsync(keys, QidoStudySummary.ByKeys(Sql.StudyTable), QidoStudySummary.ReadAsync, s => s.Id);

        /// <summary>The records of the series <paramref name="keys"/> (the tenant's, by key), as much as an answer shows of them.</summary>
        private Task<Dictionary<Guid, QidoSeriesSummary>> SeriesOfAsync(IEnumerable<Guid> keys) =>
            ByKeysAsync(keys, QidoSeriesSummary.ByKeys(Sql.SeriesTable), QidoSeriesSummary.ReadAsync, s => s.Id);

        private async Task<Dictionary<Guid, T>> ByKeysAsync<T>(
            IEnumerable<Guid> keys, string sql, Func<IQuerySession, string, CancellationToken, object[], Task<List<T>>> read, Func<T, Guid> idOf)
        {
            var distinct = keys.Distinct().ToArray();
            return distinct.Length == 0 ? [] : (await read(Session, sql, Cancellation, [Session.TenantId, distinct])).ToDictionary(idOf);
        }
    }
}
