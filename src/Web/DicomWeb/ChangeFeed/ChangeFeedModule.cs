using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Carter;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.StudyFeed;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Shared.StudyFeed;
using Marten;

namespace EventSourced.Web.DicomWeb.ChangeFeed;

/// <summary>
/// The study feed in the shape of the Microsoft DICOM service's change feed, version 2: instance-level
/// changes (create, update, delete), a time window, offset as a count of entries to skip within it
/// (docs/api-compatibility.md, "DICOMweb change feed"). Same projection as document e's
/// <c>studyEvents</c>, so the same settled-only guarantee.
/// </summary>
public sealed class ChangeFeedModule : ICarterModule
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 200;

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/dicomweb").WithTags("DICOMweb: change feed").RequireAuthorization(Scopes.StudiesRead);
        group.MapGet("/changefeed", Feed).WithName("ChangeFeed").ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/changefeed/latest", Latest).WithName("ChangeFeedLatest").ProducesProblem(StatusCodes.Status400BadRequest);
    }

    private static async Task<IResult> Feed(HttpRequest request, IDocumentStore store, CancellationToken cancellation)
    {
        if (!TryTime(request, "startTime", out var start, out var problem)
            || !TryTime(request, "endTime", out var end, out problem)
            || !TryIncludeMetadata(request, out var includeMetadata, out problem)
            || !FeedParameters.TryLimit(request, DefaultLimit, MaxLimit, out var limit, out problem))
        {
            return problem;
        }

        var offsetText = request.Query["offset"].ToString();
        var offset = 0L;
        if (offsetText.Length > 0 && !long.TryParse(offsetText, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
        {
            return Problems.BadRequest("offset must be a non-negative integer (the number of entries to skip).");
        }

        if (start is { } s && end is { } e && s >= e)
        {
            return Problems.BadRequest("startTime must be before endTime.");
        }

        var settled = await StudyFeedReader.SettledThroughAsync(store, cancellation);
        await using var session = store.QuerySessionForCaller(request.HttpContext.User);
        var read = await StudyFeedReader.ChangesAsync(session, settled, start, end, checked((int)Math.Min(offset, int.MaxValue)), limit, cancellation);
        return TypedResults.Json(Shape(read, includeMetadata));
    }

    private static async Task<IResult> Latest(HttpRequest request, IDocumentStore store, CancellationToken cancellation)
    {
        if (!TryIncludeMetadata(request, out var includeMetadata, out var problem))
        {
            return problem;
        }

        var settled = await StudyFeedReader.SettledThroughAsync(store, cancellation);
        await using var session = store.QuerySessionForCaller(request.HttpContext.User);
        var latest = await StudyFeedReader.LatestChangeAsync(session, settled, cancellation);
        if (latest.Page.Count == 0)
        {
            // The service answers an empty feed's latest with an empty object rather than an error.
            return TypedResults.Json(new Dictionary<string, object>());
        }

        return TypedResults.Json(Shape(latest, includeMetadata)[0]);
    }

    /// <summary>
    /// State is the instance's state now: <c>current</c> for its latest entry, <c>replaced</c> for earlier
    /// ones, <c>deleted</c> for all of them once its latest entry is a delete. Metadata: the instance's
    /// current DICOM JSON, only while it exists.
    /// </summary>
    private static List<ChangeFeedEntry> Shape(ChangeFeedRead read, bool includeMetadata)
    {
        var latestEntries = read.History
            .GroupBy(x => (x.StudyInstanceUid, x.SeriesInstanceUid, x.SopInstanceUid))
            .Select(g => g.OrderBy(x => x.Sequence).ThenBy(x => x.Index).Last())
            .ToList();
        var latest = latestEntries.ToDictionary(x => (x.StudyInstanceUid, x.SeriesInstanceUid, x.SopInstanceUid));

        return [.. read.Page.Select(entry =>
        {
            var last = latest.GetValueOrDefault((entry.StudyInstanceUid, entry.SeriesInstanceUid, entry.SopInstanceUid), entry);
            var state = last.ChangeFeedAction == "delete" ? "deleted" : last.Id == entry.Id ? "current" : "replaced";
            return new ChangeFeedEntry(
                entry.Sequence, entry.StudyInstanceUid, entry.SeriesInstanceUid!, entry.SopInstanceUid!, entry.ChangeFeedAction!,
                entry.OccurredAt.ToUniversalTime(), state,
                includeMetadata && state != "deleted" ? last.Metadata?.Element : null);
        })];
    }

    private static bool TryTime(HttpRequest request, string name, out DateTimeOffset? value, out IResult problem)
    {
        problem = Results.Empty;
        value = null;
        var text = request.Query[name].ToString();
        if (text.Length == 0)
        {
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            value = parsed;
            return true;
        }

        problem = Problems.BadRequest($"{name} must be a date and time (ISO 8601, e.g. 2026-12-04T10:00:00Z).");
        return false;
    }

    private static bool TryIncludeMetadata(HttpRequest request, out bool include, out IResult problem)
    {
        problem = Results.Empty;
        include = true;
        var text = request.Query["includemetadata"].ToString();
        if (text.Length == 0 || bool.TryParse(text, out include))
        {
            return true;
        }

        problem = Problems.BadRequest("includemetadata must be true or false.");
        return false;
    }
}

/// <summary>An entry as the Microsoft DICOM service's change feed writes it (PascalCase names, lower-case action and state).</summary>
public sealed record ChangeFeedEntry(
    [property: JsonPropertyName("Sequence")] long Sequence,
    [property: JsonPropertyName("StudyInstanceUid")] string StudyInstanceUid,
    [property: JsonPropertyName("SeriesInstanceUid")] string SeriesInstanceUid,
    [property: JsonPropertyName("SopInstanceUid")] string SopInstanceUid,
    [property: JsonPropertyName("Action")] string Action,
    [property: JsonPropertyName("Timestamp")] DateTimeOffset Timestamp,
    [property: JsonPropertyName("State")] string State,
    [property: JsonPropertyName("Metadata"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Metadata);
