using System.Globalization;
using System.Text.Json;
using Carter;
using EventSourced.Dicom;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Qido;
using EventSourced.Web.Infrastructure;
using Marten;
using Marten.Linq.MatchesSql;

namespace EventSourced.Web.Pacs;

/// <summary>Document e, "Count studies API" and "Get study instance metadata API", on the QIDO records.</summary>
public sealed class PacsStudiesModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/o3-dpacs-wado").WithTags("PACS: studies").RequireAuthorization(Scopes.StudiesRead);
        group.MapGet("/studies/count", Count).WithName("PacsCountStudies").ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/studyInstances", StudyInstances).WithName("PacsStudyInstances").ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> Count(HttpRequest request, IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.QuerySessionForCaller(request.HttpContext.User);
        // "Studies with zero series are excluded from the count."
        var query = session.Query<QidoStudy>().Where(x => x.NumberOfStudyRelatedSeries > 0);

        if (Single(request, "receivedAt") is { } receivedAt)
        {
            // YYYYMMDD-YYYYMMDD, from inclusive, to exclusive; either end may be open.
            var (from, to, ok) = Range(receivedAt, s => DateOnly.TryParseExact(s, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
                ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : (DateTimeOffset?)null);
            if (!ok)
            {
                return Problems.BadRequest("receivedAt is YYYYMMDD-YYYYMMDD (from inclusive, to exclusive), either end may be left out.");
            }

            if (from is { } f)
            {
                query = query.Where(x => x.ReceivedAt >= f);
            }

            if (to is { } t)
            {
                query = query.Where(x => x.ReceivedAt < t);
            }
        }

        if (Single(request, "studySize") is { } studySize)
        {
            // Kilobytes, inclusive at both ends: a study of 10.5 KB is within 0-10 only if it rounds down to 10.
            var (from, to, ok) = Range(studySize, s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb : (long?)null);
            if (!ok)
            {
                return Problems.BadRequest("studySize is a range of kilobytes, e.g. 0-10 or 100- (inclusive).");
            }

            if (from is { } f)
            {
                var bytes = f * 1024;
                query = query.Where(x => x.SizeInBytes >= bytes);
            }

            if (to is { } t)
            {
                var bytes = (t + 1) * 1024;
                query = query.Where(x => x.SizeInBytes < bytes);
            }
        }

        query = Members(query, "calling_ae_titles", Many(request, "aet"), include: true);
        query = Members(query, "calling_ae_titles", Many(request, "excludeAet"), include: false);
        query = Members(query, "station_names", Many(request, "stationName"), include: true);
        // The parameter is excludeStationName; the document's example writes excludeStation: both are read.
        query = Members(query, "station_names", [.. Many(request, "excludeStationName"), .. Many(request, "excludeStation")], include: false);

        return TypedResults.Ok(new Dictionary<string, int> { ["study_count"] = await query.CountAsync(cancellation) });
    }

    /// <summary>Studies having any of <paramref name="values"/> in a list column (include), or none of them (exclude); array overlap on the column's GIN index.</summary>
    private static IQueryable<QidoStudy> Members(IQueryable<QidoStudy> query, string column, IReadOnlyList<string> values, bool include)
    {
        if (values.Count == 0)
        {
            return query;
        }

        var any = $"d.{column} && ?";
        object[] parameters = [values.ToArray()]; // one text[] parameter (not one per value)
        return query.Where(x => x.MatchesSql(include ? any : $"not ({any})", parameters));
    }

    private static async Task<IResult> StudyInstances(HttpRequest request, IDocumentStore store, CancellationToken cancellation)
    {
        var studyUid = Single(request, "studyUid");
        if (studyUid is null || !DicomUid.IsValid(studyUid))
        {
            return Problems.BadRequest("studyUid is required and must be a UID.");
        }

        await using var session = store.QuerySessionForCaller(request.HttpContext.User);
        var instances = await session.Query<QidoInstance>()
            .Where(x => x.StudyInstanceUid == studyUid)
            .OrderBy(x => x.SeriesInstanceUid).ThenBy(x => x.InstanceNumber).ThenBy(x => x.SopInstanceUid)
            .ToListAsync(cancellation);
        return instances.Count == 0
            ? Problems.NotFound($"No study {studyUid}.")
            : TypedResults.Ok(instances.Select(StudyInstance.From).ToList());
    }

    // Query keys match without regard to case (ASP.NET Core's query collection), and repeated keys in
    // any casing are merged into one value list.
    private static string? Single(HttpRequest request, string name) =>
        request.Query[name].ToString() is { Length: > 0 } v ? v : null;

    private static List<string> Many(HttpRequest request, string name) =>
        [.. request.Query[name].Where(v => !string.IsNullOrEmpty(v)).Select(v => v!)];

    private static (T? From, T? To, bool Ok) Range<T>(string text, Func<string, T?> parse)
        where T : struct
    {
        var dash = text.IndexOf('-');
        if (dash < 0 || text.IndexOf('-', dash + 1) >= 0)
        {
            return (null, null, false);
        }

        var (left, right) = (text[..dash], text[(dash + 1)..]);
        T? from = left.Length == 0 ? null : parse(left);
        T? to = right.Length == 0 ? null : parse(right);
        var ok = (left.Length == 0 || from is not null) && (right.Length == 0 || to is not null) && (left.Length > 0 || right.Length > 0);
        return (from, to, ok);
    }

    /// <summary>One instance as the document lists its attributes (camelCase; absent attributes are null).</summary>
    public sealed record StudyInstance(
        string? AcquisitionTime, string? BodyPartExamined, string? CodeMeaning, string? ContentDate, string? ContentTime,
        string? ImageLaterality, string? ImageType, string? Laterality, string? Modality, int? NumberOfFrames, string? ProtocolName,
        string? SeriesDescription, string SeriesInstanceUid, int? SeriesNumber, string SopClassUid, string SopInstanceUid,
        string? StudyDescription, string StudyInstanceUid, string? ViewPosition)
    {
        public static StudyInstance From(QidoInstance i)
        {
            var h = i.Header;
            return new(
                Text(h, DicomTags.AcquisitionTime.JsonKey()), Text(h, DicomTags.BodyPartExamined.JsonKey()), CodeMeaningOf(h), Text(h, DicomTags.ContentDate.JsonKey()), Text(h, DicomTags.ContentTime.JsonKey()),
                Text(h, DicomTags.ImageLaterality.JsonKey()), Text(h, DicomTags.ImageType.JsonKey()), Text(h, DicomTags.Laterality.JsonKey()), Text(h, DicomTags.Modality.JsonKey()), Number(h, DicomTags.NumberOfFrames.JsonKey()), Text(h, DicomTags.ProtocolName.JsonKey()),
                Text(h, DicomTags.SeriesDescription.JsonKey()), i.SeriesInstanceUid, Number(h, DicomTags.SeriesNumber.JsonKey()), i.SopClassUid, i.SopInstanceUid,
                Text(h, DicomTags.StudyDescription.JsonKey()), i.StudyInstanceUid, Text(h, DicomTags.ViewPosition.JsonKey()));
        }

        /// <summary>Multiple values joined with the DICOM delimiter (Image Type is typically ORIGINAL\PRIMARY\AXIAL).</summary>
        private static string? Text(JsonElement header, string tag) =>
            header.ValueKind == JsonValueKind.Object && header.TryGetProperty(tag, out var a) && a.TryGetProperty("Value", out var v) && v.GetArrayLength() > 0
                ? string.Join('\\', v.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString() : x.GetRawText()))
                : null;

        private static int? Number(JsonElement header, string tag) =>
            int.TryParse(Text(header, tag), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

        /// <summary>Code Meaning (0008,0104) of the view (View Code Sequence, 0054,0220), else of the anatomic region (0008,2218).</summary>
        private static string? CodeMeaningOf(JsonElement header)
        {
            foreach (var sequence in new[] { DicomTags.ViewCodeSequence.JsonKey(), DicomTags.AnatomicRegionSequence.JsonKey() })
            {
                if (header.ValueKind == JsonValueKind.Object && header.TryGetProperty(sequence, out var a) && a.TryGetProperty("Value", out var items)
                    && items.GetArrayLength() > 0 && Text(items[0], DicomTags.CodeMeaning.JsonKey()) is { } meaning)
                {
                    return meaning;
                }
            }

            return null;
        }
    }
}
