using System.Globalization;
using Carter;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.StudyFeed;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Shared.StudyFeed;
using Marten;

namespace EventSourced.Web.Pacs;

/// <summary>
/// Document e, "Get study events API": the caller's tenant's study changes after an offset, oldest first
/// (docs/api-compatibility.md, "Document e: study events"). A consumer resumes from the last
/// <c>offsetId</c> it processed.
/// </summary>
public sealed class PacsStudyEventsModule : ICarterModule
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapGroup("/o3-dpacs-wado").WithTags("PACS: study events").RequireAuthorization(Scopes.StudiesRead)
            .MapGet("/studyEvents", StudyEvents).WithName("PacsStudyEvents")
            .ProducesProblem(StatusCodes.Status400BadRequest);
    }

    private static async Task<IResult> StudyEvents(
        HttpRequest request, IDocumentStore store, StudyFeedSignal signal, CancellationToken cancellation)
    {
        var offset = request.Query["offsetId"].ToString();
        if (offset.Length == 0)
        {
            return Problems.BadRequest("offsetId is required: the offset id of the last event processed, 0 to start from the beginning.");
        }

        if (!long.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out var after))
        {
            return Problems.BadRequest("offsetId must be a non-negative integer.");
        }

        if (!FeedParameters.TryLimit(request, DefaultLimit, MaxLimit, out var limit, out var limitProblem))
        {
            return limitProblem;
        }

        if (!FeedParameters.TryWait(request, MaxWait, out var wait, out var waitProblem))
        {
            return waitProblem;
        }

        await using var session = store.QuerySessionForCaller(request.HttpContext.User);
        var page = await StudyFeedReader.ReadOrWaitAsync(store, session, signal, after, limit, wait, FeedParameters.Recheck, cancellation);
        return TypedResults.Ok(new StudyEventsPage(
            after,
            page.Entries.Count > 0 ? page.Entries[^1].Sequence : after,
            page.SettledThrough,
            page.HasMore,
            [.. page.Entries.Select(StudyEvent.From)]));
    }
}

/// <summary>One page of <c>studyEvents</c>.</summary>
/// <param name="OffsetId">The offset asked for.</param>
/// <param name="LastOffsetId">Where to resume: the last entry's offset id, or <paramref name="OffsetId"/> when the page is empty.</param>
/// <param name="SettledOffsetId">Every event up to this offset id is settled: no entry at or below it can appear later.</param>
/// <param name="HasMore">More entries were already settled: ask again at once.</param>
public sealed record StudyEventsPage(long OffsetId, long LastOffsetId, long SettledOffsetId, bool HasMore, IReadOnlyList<StudyEvent> Events);

public sealed record StudyEventActor(string Subject, string Via);

public sealed record StudyEvent(
    long OffsetId,
    string Kind,
    string StudyInstanceUid,
    string? SeriesInstanceUid,
    string? SopInstanceUid,
    DateTimeOffset OccurredAt,
    StudyEventActor Actor,
    string Channel,
    Guid? OrderId,
    string? Reason,
    IReadOnlyDictionary<string, string> Details,
    string EventType)
{
    public static StudyEvent From(StudyFeedEntry e) => new(
        e.Sequence, e.Kind.ToString(), e.StudyInstanceUid, e.SeriesInstanceUid, e.SopInstanceUid, e.OccurredAt,
        new StudyEventActor(e.Subject, e.Via), e.Channel ?? e.Via, e.OrderId, e.Reason, e.Details, e.EventType);
}
