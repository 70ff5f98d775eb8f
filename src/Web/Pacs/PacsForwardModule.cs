using System.Data.Common;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Carter;
using EventSourced.Application.Forwarding;
using EventSourced.Application.Forwarding.RequestingForward;
using EventSourced.Application.Forwarding.RetryingForward;
using EventSourced.Dicom;
using EventSourced.Domain.Forwarding;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Pacs.Pathology;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace EventSourced.Web.Pacs;

/// <summary>
/// Document e, "Forward DICOM series API" and "Forward non-DICOM Digital Pathology wholeslides API" (one
/// route, told apart by the body), and our operator routes beside them: the forwards by state (the
/// dead-letter list is <c>?state=failed</c>) and the retry of a dead-lettered one.
/// </summary>
public sealed class PacsForwardModule : ICarterModule
{
    private const string Via = "pacs-api";
    private const int MaxBody = 16 * 1024;
    private const int MaxListed = 1000;

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/o3-dpacs-wado").WithTags("PACS: forwarding");
        group.MapPost("/series/forward", Forward).WithName("PacsForwardSeries").RequireAuthorization(Scopes.StudiesWrite)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status500InternalServerError);
        group.MapGet("/forwards", List).WithName("PacsListForwards").RequireAuthorization(Scopes.StudiesRead)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/forwards/{forwardId:guid}", Get).WithName("PacsGetForward").RequireAuthorization(Scopes.StudiesRead)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/forwards/{forwardId:guid}/retry", Retry).WithName("PacsRetryForward").RequireAuthorization(Scopes.StudiesWrite)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> Forward(
        HttpRequest request, ClaimsPrincipal user, IDocumentStore store, IMessageBus bus, IOptions<ForwardingOptions> options, CancellationToken cancellation)
    {
        var (body, error) = await ReadAsync(request, cancellation);
        if (body is null)
        {
            return error!;
        }

        var (destinations, configuration) = options.Value.Resolve(body.Kind);
        if (configuration is not null)
        {
            return ServerError(configuration);
        }

        try
        {
            await using var session = store.QuerySessionForCaller(user);
            // The non-DICOM variant names the container's pathology slides (their files are what is sent); a
            // container holding only DICOM instances (a DICOM WSI included) has none: 404.
            var series = body.Kind == ForwardKind.Series
                ? await PacsSeriesLookup.BySeriesUidAsync(session, body.Key, cancellation)
                : [.. (await PathologySlides.OfContainerAsync(session, body.Key, cancellation))
                    .Select(s => new PacsSeriesLookup.SeriesKey(s.Instance.StudyInstanceUid, s.Instance.SeriesInstanceUid)).Distinct()];
            if (series.Count == 0)
            {
                return Problems.NotFound(body.Kind == ForwardKind.Series ? "Not found: series not found." : "Not found: container identifier not found.");
            }

            var started = await bus.InvokeForCallerAsync<ForwardsStarted>(user, new RequestForward(
                body.Kind, body.Key, [.. series.Select(s => new ForwardedSeries(s.Study, s.Series))], destinations, body.Author, user.Actor(Via)), cancellation);
            return TypedResults.Ok(new JsonObject
            {
                ["message"] = "forward enqueued",
                ["forwards"] = new JsonArray([.. started.ForwardIds.Select(id => JsonValue.Create(id.ToString()))]),
            });
        }
        catch (Exception e) when (IsDatabaseError(e))
        {
            return ServerError("database error");
        }
    }

    private static async Task<IResult> List(HttpRequest request, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        ForwardState? state = null;
        if (request.Query["state"].ToString() is { Length: > 0 } given)
        {
            if (!Enum.TryParse<ForwardState>(given, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || given.Any(char.IsDigit))
            {
                return Problems.BadRequest("state is one of pending, delivered, failed.");
            }

            state = parsed;
        }

        var limit = 100;
        if (request.Query["limit"].ToString() is { Length: > 0 } text && (!int.TryParse(text, out limit) || limit < 1 || limit > MaxListed))
        {
            return Problems.BadRequest($"limit is a whole number from 1 to {MaxListed}.");
        }

        await using var session = store.QuerySessionForCaller(user);
        var query = session.Query<Forward>().AsQueryable();
        if (state is { } wanted)
        {
            query = query.Where(x => x.State == wanted);
        }

        var forwards = await query.OrderByDescending(x => x.RequestedAt).Take(limit).ToListAsync(cancellation);
        return TypedResults.Ok(forwards.Select(View).ToList());
    }

    private static async Task<IResult> Get(Guid forwardId, ClaimsPrincipal user, IDocumentStore store, CancellationToken cancellation)
    {
        await using var session = store.QuerySessionForCaller(user);
        return await session.LoadAsync<Forward>(forwardId, cancellation) is { } forward
            ? TypedResults.Ok(View(forward))
            : Problems.NotFound($"No forward {forwardId}.");
    }

    private static async Task<IResult> Retry(Guid forwardId, ClaimsPrincipal user, IDocumentStore store, IMessageBus bus, CancellationToken cancellation)
    {
        var outcome = await bus.InvokeForCallerAsync<RetryOutcome>(user, new RetryForward(forwardId, user.Actor(Via)), cancellation);
        switch (outcome)
        {
            case RetryOutcome.NotFound:
                return Problems.NotFound($"No forward {forwardId}.");
            case RetryOutcome.NotFailed:
                return Problems.Create(StatusCodes.Status409Conflict, "Conflict", "Only a failed (dead-lettered) forward is retried; this one is pending or delivered.");
        }

        await using var session = store.QuerySessionForCaller(user);
        return TypedResults.Ok(View((await session.LoadAsync<Forward>(forwardId, cancellation))!));
    }

    /// <summary>What an operator sees of a forward (the job's Authorization header is configuration, never shown).</summary>
    public sealed record ForwardView(
        Guid ForwardId, string Kind, string Key, IReadOnlyList<ForwardedSeries> Series, string Job, string Destination, string Author,
        string State, int Attempts, DateTimeOffset? NextAttemptAt, string? LastError, int Files, long Bytes, string RequestedBy, DateTimeOffset RequestedAt, DateTimeOffset UpdatedAt);

    private static ForwardView View(Forward f) => new(
        f.Id, f.Kind == ForwardKind.Series ? "series" : "nonDicomSlides", f.Key, f.Series, f.Job, f.Destination, f.Author,
        f.State.ToString().ToLowerInvariant(), f.Attempts, f.NextAttemptAt, f.LastError, f.Files, f.Bytes, f.RequestedBy.Subject, f.RequestedAt, f.UpdatedAt);

    /// <summary>Document e's 500 answers, each a configuration (or database) error it names; as problem details, the text as documented.</summary>
    private static IResult ServerError(string documented) =>
        Problems.Create(StatusCodes.Status500InternalServerError, "Internal Server Error", documented);

    private static bool IsDatabaseError(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is DbException)
            {
                return true;
            }
        }

        return false;
    }

    private sealed record Body(ForwardKind Kind, string Key, string Author);

    private static readonly string[] Fields = ["seriesInstanceUID", "seriesInstanceUid", "containerIdentifier", "author"];

    /// <summary>
    /// Exactly one of seriesInstanceUID (the DICOM variant) and containerIdentifier (the non-DICOM one), and
    /// author: non-blank JSON strings; anything else is document e's 400 "both parameters are mandatory".
    /// </summary>
    private static async Task<(Body? Body, IResult? Error)> ReadAsync(HttpRequest request, CancellationToken cancellation)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation, MaxBody);
        if (document is null)
        {
            return (null, error);
        }

        using (document)
        {
            var (fields, invalid) = PacsBody.Strings(document.RootElement, Fields);
            if (invalid is not null)
            {
                return (null, invalid);
            }

            var keys = Fields[..3].Where(fields.ContainsKey).ToList();
            if (keys.Count != 1 || !fields.TryGetValue("author", out var author))
            {
                return (null, Problems.BadRequest(
                    "Bad request: both parameters are mandatory (seriesInstanceUID or containerIdentifier, exactly one, and author)."));
            }

            var key = keys[0];
            var value = fields[key];
            if (key != "containerIdentifier" && !DicomUid.IsValid(value))
            {
                return (null, Problems.BadRequest($"Bad request: {key} is not a DICOM UID."));
            }

            if (value.Length > 64)
            {
                return (null, Problems.BadRequest($"Bad request: {key} is longer than 64 characters."));
            }

            return (new Body(key == "containerIdentifier" ? ForwardKind.NonDicomSlides : ForwardKind.Series, value, author), null);
        }
    }
}
