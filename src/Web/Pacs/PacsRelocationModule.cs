using System.Security.Claims;
using System.Text.Json.Nodes;
using Carter;
using EventSourced.Application.Blobs;
using EventSourced.Application.Studies.RelocatingStudy;
using EventSourced.Dicom;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Qido;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using Marten;
using Wolverine;

namespace EventSourced.Web.Pacs;

/// <summary>
/// Document e, "Study relocation API": move a study's blobs to another physical medium or bucket,
/// synchronously. The module resolves the location and the study and sends one command; the answer
/// echoes the request as understood.
/// </summary>
public sealed class PacsRelocationModule : ICarterModule
{
    private const string Via = "pacs-api";
    private const int MaxBody = 16 * 1024;

    /// <summary>Copying a large study to a bucket takes as long as it takes: the document's service is synchronous.</summary>
    private static readonly TimeSpan RelocationTimeout = TimeSpan.FromHours(1);

    private static readonly string[] Order = ["studyInstanceUid", "accessionNumber", "bucketName", "physicalMediumName", "author"];

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        app.MapGroup("/o3-dpacs-wado").WithTags("PACS: storage").RequireAuthorization(Scopes.StudiesWrite)
            .MapPost("/studies/relocation", Relocate).WithName("PacsRelocateStudy")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> Relocate(
        HttpRequest request, ClaimsPrincipal user, IDocumentStore store, IBlobLocations locations, IMessageBus bus, CancellationToken cancellation)
    {
        var (fields, error) = await ReadAsync(request, cancellation);
        if (fields is null)
        {
            return error!;
        }

        var target = fields.TryGetValue("bucketName", out var bucket)
            ? new StorageLocation(StorageKind.Bucket, bucket)
            : new StorageLocation(StorageKind.PhysicalMedium, fields["physicalMediumName"]);
        if (locations.StoreAt(target) is null && target.Kind == StorageKind.PhysicalMedium)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "Physical medium not found", $"No physical medium is named '{target.Name}'.");
        }

        if (target.Kind == StorageKind.Bucket && !await locations.IsAvailableAsync(target, cancellation))
        {
            return Problems.Create(StatusCodes.Status409Conflict, "Bucket error",
                $"Bucket '{target.Name}' is not configured, does not exist on its service or cannot be reached.");
        }

        string study;
        if (fields.TryGetValue("studyInstanceUid", out var uid))
        {
            study = uid;
        }
        else
        {
            await using var session = store.QuerySessionForCaller(user);
            var accession = fields["accessionNumber"];
            var studies = await session.Query<QidoStudy>().Where(x => x.AccessionNumber == accession).Select(x => x.StudyInstanceUid).ToListAsync(cancellation);
            if (studies.Count > 1)
            {
                return Problems.Create(StatusCodes.Status409Conflict, "Multiple studies found", $"{studies.Count} studies have accession number '{accession}'.");
            }

            if (studies.Count == 0)
            {
                return StudyNotFound();
            }

            study = studies[0];
        }

        RelocationOutcome outcome;
        try
        {
            outcome = await bus.InvokeForTenantAsync<RelocationOutcome>(user.TenantId(),
                new RelocateStudy(study, target, fields["author"], user.Actor(Via)), cancellation, RelocationTimeout);
        }
        catch (IOException e)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "System error relocating study", e.Message);
        }

        return outcome.Refused switch
        {
            RelocationRefusal.StudyNotFound => StudyNotFound(),
            RelocationRefusal.BucketToBucket => Problems.Create(StatusCodes.Status409Conflict, "Relocation not supported",
                $"The study is in {outcome.From}; relocation from one bucket to another one is not supported."),
            _ => TypedResults.Ok(new JsonObject
            {
                ["message"] = "relocation successful",
                ["request"] = Echo(fields),
            }),
        };
    }

    private static IResult StudyNotFound() => Problems.NotFound("Study not found: no study matches the request.");

    private static JsonObject Echo(Dictionary<string, string> fields)
    {
        var echo = new JsonObject();
        foreach (var name in Order.Where(fields.ContainsKey))
        {
            echo[name] = fields[name];
        }

        return echo;
    }

    /// <summary>Exactly one of each exclusive pair, and author; JSON strings, non-blank; nothing else.</summary>
    private static async Task<(Dictionary<string, string>? Fields, IResult? Error)> ReadAsync(HttpRequest request, CancellationToken cancellation)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation, MaxBody);
        if (document is null)
        {
            return (null, error);
        }

        using (document)
        {
            var (fields, invalid) = PacsBody.Strings(document.RootElement, Order);
            if (invalid is not null)
            {
                return (null, invalid);
            }

            foreach (var (first, second) in new[] { ("studyInstanceUid", "accessionNumber"), ("bucketName", "physicalMediumName") })
            {
                if (fields.ContainsKey(first) == fields.ContainsKey(second))
                {
                    return (null, Invalid($"exactly one of {first} and {second} is required."));
                }
            }

            if (!fields.ContainsKey("author"))
            {
                return (null, Invalid("author is required."));
            }

            if (fields.TryGetValue("studyInstanceUid", out var uid) && !DicomUid.IsValid(uid))
            {
                return (null, Invalid("studyInstanceUid is not a DICOM UID."));
            }

            if (fields.TryGetValue("accessionNumber", out var accession) && accession.Length > 16)
            {
                return (null, Invalid("accessionNumber is longer than 16 characters (SH)."));
            }

            return (fields, null);
        }
    }

    private static IResult Invalid(string detail) => Problems.Create(StatusCodes.Status400BadRequest, "Invalid relocation request", detail);
}
