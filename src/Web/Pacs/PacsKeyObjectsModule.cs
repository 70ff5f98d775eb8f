using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Carter;
using EventSourced.Application.Studies.CreatingKeyObject;
using EventSourced.Application.Studies.GeneratingKeyObject;
using EventSourced.Dicom;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using Wolverine;

namespace EventSourced.Web.Pacs;

/// <summary>
/// Document e, "KOS APIs": create a manifest KOS in the study (stored as a new instance) and generate one
/// without storing it. Both reference every visible instance of the study; see docs/api-compatibility.md.
/// </summary>
public sealed class PacsKeyObjectsModule : ICarterModule
{
    private const string Via = "pacs-api";
    private const int MaxBody = 16 * 1024;

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/o3-dpacs-wado").WithTags("PACS: KOS");
        group.MapPost("/studies/createKos", CreateKos).WithName("PacsCreateKos").RequireAuthorization(Scopes.StudiesWrite);
        group.MapGet("/studies/kos", Kos).WithName("PacsGenerateKos").RequireAuthorization(Scopes.StudiesRead)
            .Produces(StatusCodes.Status200OK, contentType: "application/dicom")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> CreateKos(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, CancellationToken cancellation)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(request, cancellation, MaxBody);
        if (document is null)
        {
            return Failure(StatusCodes.Status400BadRequest, "MALFORMED_JSON");
        }

        string? study = null;
        string? callingAe = null;
        using (document)
        {
            foreach (var member in document.RootElement.EnumerateObject())
            {
                switch (member.Name)
                {
                    case "studyInstanceUid" when member.Value.ValueKind == JsonValueKind.String && study is null:
                        study = member.Value.GetString();
                        break;
                    case "callingAE" when member.Value.ValueKind == JsonValueKind.Null:
                        break;
                    case "callingAE" when member.Value.ValueKind == JsonValueKind.String && callingAe is null:
                        callingAe = member.Value.GetString()!.Trim();
                        break;
                    default:
                        return Failure(StatusCodes.Status400BadRequest, "MALFORMED_JSON");
                }
            }
        }

        if (study is null || !DicomUid.IsValid(study) || (callingAe is not null && !IsAeTitle(callingAe)))
        {
            return Failure(StatusCodes.Status400BadRequest, "MALFORMED_JSON");
        }

        var created = await bus.InvokeForCallerAsync<KeyObjectCreation>(
            user, new CreateKeyObject(study, callingAe is { Length: > 0 } ? callingAe : null, user.Actor(Via)), cancellation);
        return created.SopInstanceUid is { } sop
            ? TypedResults.Ok(new JsonObject { ["success"] = true, ["sopInstanceUid"] = sop })
            : Failure(StatusCodes.Status404NotFound, "STUDY_NOT_FOUND");
    }

    private static async Task<IResult> Kos(HttpRequest request, ClaimsPrincipal user, IMessageBus bus, CancellationToken cancellation)
    {
        var studyUid = request.Query["studyUid"];
        if (studyUid.Count != 1 || studyUid[0] is not { Length: > 0 } study || !DicomUid.IsValid(study))
        {
            return Problems.BadRequest("studyUid is required (once) and must be a DICOM UID.");
        }

        var generated = await bus.InvokeForCallerAsync<GeneratedKeyObject>(user, new GenerateKeyObject(study), cancellation);
        if (generated is not { SopInstanceUid: { } sop, Bytes: { } bytes })
        {
            return Problems.NotFound($"No study {study}.");
        }

        request.HttpContext.Response.Headers.ContentDisposition = $"attachment; filename=\"{sop}\"";
        return TypedResults.Bytes(bytes, "application/dicom");
    }

    /// <summary>Document e's failure body: <c>{"success": false, "errorCode": …}</c>.</summary>
    private static IResult Failure(int status, string errorCode) =>
        TypedResults.Json(new JsonObject { ["success"] = false, ["errorCode"] = errorCode }, statusCode: status);

    /// <summary>An AE title (PS3.5 AE): at most 16 characters of the default repertoire, no backslash or control characters.</summary>
    private static bool IsAeTitle(string value) =>
        value.Length <= 16 && value.All(c => c >= ' ' && c <= '~' && c != '\\');
}
