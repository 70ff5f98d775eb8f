using System.Security.Claims;
using Carter;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;

namespace EventSourced.Web.DicomService;

/// <summary>
/// Document c, "Viewer Token": <c>GET /token?studyUID=&amp;patientID=&amp;user=&amp;role=</c> → <c>{"token": …}</c>.
/// Issuing needs studies.read (a caller hands out read access to a study only if it can read it itself).
/// Choices: docs/api-compatibility.md, "Document c — viewer tokens".
/// </summary>
public sealed class ViewerTokenModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet("/token", Issue)
            .WithTags("DICOM service: viewer token")
            .WithName("IssueViewerToken")
            .RequireAuthorization(Scopes.StudiesRead);

    private static async Task<IResult> Issue(HttpRequest request, ClaimsPrincipal user, ViewerTokens tokens, CancellationToken cancellation)
    {
        var query = request.Query;
        var errors = new List<(string, string)>();
        var study = Single(query, "studyUID", errors);
        var patient = Single(query, "patientID", errors);
        var name = Single(query, "user", errors);
        var role = Single(query, "role", errors) ?? ViewerTokens.PatientRole;

        if (study is null)
        {
            errors.Add(("studyUID", "studyUID is mandatory."));
        }
        else if (!Dicom.DicomUid.IsValid(study))
        {
            errors.Add(("studyUID", $"'{study}' is not a valid UID."));
        }

        if (role is not (ViewerTokens.PatientRole or ViewerTokens.DiagnosticRole))
        {
            errors.Add(("role", $"role is '{ViewerTokens.PatientRole}' (the default) or '{ViewerTokens.DiagnosticRole}'."));
        }

        if (patient is { Length: > 64 })
        {
            errors.Add(("patientID", "patientID is at most 64 characters (LO)."));
        }

        if (name is { Length: > 128 })
        {
            errors.Add(("user", "user is at most 128 characters."));
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var (token, _) = await tokens.IssueAsync(user.TenantId(), study!, patient, name, role, user.Actor("viewer-token"), cancellation);
        return TypedResults.Ok(new { token });
    }

    private static string? Single(IQueryCollection query, string name, List<(string, string)> errors)
    {
        var values = query[name];
        if (values.Count > 1)
        {
            errors.Add((name, $"{name} is given more than once."));
        }

        return values.Count == 1 && !string.IsNullOrWhiteSpace(values[0]) ? values[0]!.Trim() : null;
    }
}
