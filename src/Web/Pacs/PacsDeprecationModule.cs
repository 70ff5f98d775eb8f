using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Carter;
using EventSourced.Application.Studies.DeprecatingContent;
using EventSourced.Dicom;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Qido;
using EventSourced.Web.Infrastructure;
using Marten;
using Marten.Linq.MatchesSql;
using Wolverine;

namespace EventSourced.Web.Pacs;

/// <summary>
/// Document e, "Deprecation APIs" (series and study deprecation), and our restore routes beside them.
/// The module finds the study the request names (by UID, container identifier or accession number, on
/// the QIDO records, so deprecated content is not found again) and sends one command.
/// </summary>
public sealed class PacsDeprecationModule : ICarterModule
{
    private const string Via = "pacs-api";
    private const int MaxBody = 16 * 1024;

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/o3-dpacs-wado").WithTags("PACS: deprecation").RequireAuthorization(Scopes.StudiesWrite);
        group.MapPost("/series/deprecation", DeprecateSeries).WithName("PacsDeprecateSeries")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/studies/deprecation", DeprecateStudy).WithName("PacsDeprecateStudy")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/series/deprecation/restore", RestoreSeries).WithName("PacsRestoreSeries")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/studies/deprecation/restore", RestoreStudy).WithName("PacsRestoreStudy")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> DeprecateSeries(HttpRequest request, ClaimsPrincipal user, IDocumentStore store, IMessageBus bus, CancellationToken cancellation)
    {
        var (body, error) = await ReadAsync(request, "seriesInstanceUid", "containerIdentifier", cancellation);
        if (body is null)
        {
            return error!;
        }

        await using var session = store.QuerySessionForCaller(user);
        var found = body.Key == "seriesInstanceUid"
            ? await session.Query<QidoSeries>().Where(x => x.SeriesInstanceUid == body.Value)
                .Select(x => new SeriesKey(x.StudyInstanceUid, x.SeriesInstanceUid)).ToListAsync(cancellation)
            : await SeriesByContainerAsync(session, body.Value, cancellation);
        var series = found.Distinct().ToList();
        if (series.Count == 0)
        {
            return Problems.NotFound("Series not found: no series matches the request.");
        }

        if (series.Count > 1)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "Multiple series found",
                $"{series.Count} series match {body.Key} '{body.Value}'.");
        }

        var start = await bus.InvokeForCallerAsync<DeprecationStart>(user,
            new DeprecateStudyContent(series[0].Study, series[0].Series, body.Author, body.Reason, user.Actor(Via)), cancellation);
        return start.Refused is { } refused ? Refusal(refused, "series") : Accepted(body, ["key", "reason", "author"]);
    }

    private static async Task<IResult> DeprecateStudy(HttpRequest request, ClaimsPrincipal user, IDocumentStore store, IMessageBus bus, CancellationToken cancellation)
    {
        var (body, error) = await ReadAsync(request, "studyInstanceUid", "accessionNumber", cancellation);
        if (body is null)
        {
            return error!;
        }

        await using var session = store.QuerySessionForCaller(user);
        var studies = body.Key == "studyInstanceUid"
            ? await session.Query<QidoStudy>().Where(x => x.StudyInstanceUid == body.Value).Select(x => x.StudyInstanceUid).ToListAsync(cancellation)
            : await session.Query<QidoStudy>().Where(x => x.AccessionNumber == body.Value).Select(x => x.StudyInstanceUid).ToListAsync(cancellation);
        if (studies.Count == 0)
        {
            return Problems.NotFound("Study not found: no study matches the request.");
        }

        if (studies.Count > 1)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "Multiple studies found",
                $"{studies.Count} studies have accession number '{body.Value}'.");
        }

        var start = await bus.InvokeForCallerAsync<DeprecationStart>(user,
            new DeprecateStudyContent(studies[0], null, body.Author, body.Reason, user.Actor(Via)), cancellation);
        return start.Refused is { } refused ? Refusal(refused, "study") : Accepted(body, ["key", "author", "reason"]);
    }

    private static Task<IResult> RestoreSeries(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, CancellationToken cancellation) =>
        RestoreAsync(request, user, bus, series: true, cancellation);

    private static Task<IResult> RestoreStudy(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, CancellationToken cancellation) =>
        RestoreAsync(request, user, bus, series: false, cancellation);

    /// <summary>Our restore: <c>{"studyInstanceUid", "seriesInstanceUid" (series route only), "author", "reason"}</c>.</summary>
    private static async Task<IResult> RestoreAsync(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, bool series, CancellationToken cancellation)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation, MaxBody);
        if (document is null)
        {
            return error!;
        }

        using (document)
        {
            string[] allowed = series ? ["studyInstanceUid", "seriesInstanceUid", "author", "reason"] : ["studyInstanceUid", "author", "reason"];
            var (fields, invalid) = Strings(document.RootElement, allowed);
            if (invalid is not null)
            {
                return invalid;
            }

            var missing = allowed.Where(name => !fields.ContainsKey(name)).ToList();
            if (missing.Count > 0)
            {
                return Problems.BadRequest($"Invalid restore request: {string.Join(", ", missing)} required.");
            }

            if (!DicomUid.IsValid(fields["studyInstanceUid"]) || (series && !DicomUid.IsValid(fields["seriesInstanceUid"])))
            {
                return Problems.BadRequest("Invalid restore request: the UIDs must be DICOM UIDs.");
            }

            var outcome = await bus.InvokeForCallerAsync<RestoreOutcome>(user, new RestoreStudyContent(
                fields["studyInstanceUid"], series ? fields["seriesInstanceUid"] : null, fields["author"], fields["reason"], user.Actor(Via)), cancellation);
            return outcome.Refused switch
            {
                null => TypedResults.Ok(new JsonObject
                {
                    ["message"] = "restore successful",
                    ["restoredInstances"] = outcome.Restored,
                }),
                DeprecationRefusal.Pending => PendingConflict(series ? "series" : "study"),
                _ => Problems.NotFound($"No deprecated {(series ? "series" : "study")} to restore."),
            };
        }
    }

    private sealed record SeriesKey(string Study, string Series);

    /// <summary>A validated deprecation body: which of the exclusive pair was given, its value, author and reason.</summary>
    private sealed record Body(string Key, string Value, string Author, string Reason);

    /// <summary>
    /// The document's mandatory fields: exactly one of the exclusive pair, author, reason; all JSON
    /// strings, non-blank. Unknown members are refused too ("the request's body wasn't formatted correctly").
    /// </summary>
    private static async Task<(Body? Body, IResult? Error)> ReadAsync(HttpRequest request, string first, string second, CancellationToken cancellation)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation, MaxBody);
        if (document is null)
        {
            return (null, error);
        }

        using (document)
        {
            var (fields, invalid) = Strings(document.RootElement, [first, second, "author", "reason"]);
            if (invalid is not null)
            {
                return (null, invalid);
            }

            var given = new[] { first, second }.Where(fields.ContainsKey).ToList();
            if (given.Count != 1)
            {
                return (null, Problems.BadRequest($"Invalid deprecation request: exactly one of {first} and {second} is required."));
            }

            var missing = new[] { "author", "reason" }.Where(name => !fields.ContainsKey(name)).ToList();
            if (missing.Count > 0)
            {
                return (null, Problems.BadRequest($"Invalid deprecation request: {string.Join(" and ", missing)} required."));
            }

            var key = given[0];
            if (key.EndsWith("Uid", StringComparison.Ordinal) && !DicomUid.IsValid(fields[key]))
            {
                return (null, Problems.BadRequest($"Invalid deprecation request: {key} is not a DICOM UID."));
            }

            if (fields[key].Length > 64)
            {
                return (null, Problems.BadRequest($"Invalid deprecation request: {key} is longer than 64 characters."));
            }

            return (new Body(key, fields[key], fields["author"], fields["reason"]), null);
        }
    }

    /// <summary>The members of a JSON object, each a non-blank string of at most 1024 characters, among <paramref name="allowed"/>.</summary>
    private static (Dictionary<string, string> Fields, IResult? Error) Strings(JsonElement root, IReadOnlyList<string> allowed)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (fields, Problems.BadRequest("The request body must be a JSON object."));
        }

        foreach (var member in root.EnumerateObject())
        {
            if (!allowed.Contains(member.Name))
            {
                return (fields, Problems.BadRequest($"Unknown field '{member.Name}'; the fields are {string.Join(", ", allowed)}."));
            }

            if (member.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (member.Value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(member.Value.GetString()))
            {
                return (fields, Problems.BadRequest($"'{member.Name}' must be a non-empty string."));
            }

            var value = member.Value.GetString()!.Trim();
            if (value.Length > 1024)
            {
                return (fields, Problems.BadRequest($"'{member.Name}' is longer than 1024 characters."));
            }

            if (!fields.TryAdd(member.Name, value))
            {
                return (fields, Problems.BadRequest($"'{member.Name}' is given twice."));
            }
        }

        return (fields, null);
    }

    /// <summary>Container Identifier (0040,0512) of any stored instance, in the QIDO instance records' headers.</summary>
    private static async Task<IReadOnlyList<SeriesKey>> SeriesByContainerAsync(IQuerySession session, string container, CancellationToken cancellation)
    {
        var match = new JsonObject { ["Header"] = new JsonObject { [DicomTags.ContainerIdentifier.JsonKey()] = new JsonObject { ["Value"] = new JsonArray(container) } } }.ToJsonString();
        return await session.Query<QidoInstance>()
            .Where(x => x.MatchesSql("d.data @> ?::jsonb", match))
            .Select(x => new SeriesKey(x.StudyInstanceUid, x.SeriesInstanceUid))
            .ToListAsync(cancellation);
    }

    private static IResult Refusal(DeprecationRefusal refused, string what) => refused switch
    {
        DeprecationRefusal.Pending => PendingConflict(what),
        DeprecationRefusal.SeriesNotFound => Problems.NotFound("Series not found: it was impossible to load every useful data to proceed with the deprecation."),
        _ => Problems.NotFound("Study not found: it was impossible to load every useful data to proceed with the deprecation."),
    };

    private static IResult PendingConflict(string what) =>
        Problems.Create(StatusCodes.Status409Conflict, $"{(what == "series" ? "Series" : "Study")} has already a pending deprecation",
            "There is an ongoing deprecation for the study; retry when it has completed.");

    /// <summary>The document's 200 body: the message and the request as understood, in the document's member order.</summary>
    private static IResult Accepted(Body body, IReadOnlyList<string> order)
    {
        var echo = new JsonObject();
        foreach (var name in order)
        {
            switch (name)
            {
                case "key":
                    echo[body.Key] = body.Value;
                    break;
                case "author":
                    echo["author"] = body.Author;
                    break;
                case "reason":
                    echo["reason"] = body.Reason;
                    break;
            }
        }

        return TypedResults.Ok(new JsonObject { ["message"] = "deprecation successful", ["request"] = echo });
    }
}
