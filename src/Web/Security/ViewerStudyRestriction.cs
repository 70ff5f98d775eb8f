using System.Security.Claims;
using EventSourced.Dicom;
using EventSourced.Domain.Access;
using EventSourced.Domain.Common;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Primitives;

namespace EventSourced.Web.Security;

/// <summary>
/// The one place a viewer token's study restriction is enforced: the /dicomweb QIDO-RS and WADO-RS
/// groups require <see cref="PolicyName"/> (the studies.read scope, or a study-restricted viewer
/// principal) and carry this filter. For a viewer principal it refuses a path naming another study (403),
/// forces the StudyInstanceUID match key of a query without a study in its path, and records the use
/// (<see cref="ViewerTokenUsed"/>) before the endpoint runs. Other principals pass untouched.
/// </summary>
public static class ViewerStudyRestriction
{
    public const string PolicyName = "dicomweb.read";

    public static void AddPolicy(AuthorizationOptions options) =>
        options.AddPolicy(PolicyName, policy => policy.RequireAuthenticatedUser().RequireAssertion(context =>
            context.User.HasClaim(Principal.ScopeClaim, Scopes.StudiesRead) || context.User.HasClaim(c => c.Type == ViewerTokens.StudyClaim)));

    public static TBuilder RestrictedToViewerStudy<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(PolicyName).AddEndpointFilter(FilterAsync);

    private static ValueTask<object?> FilterAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next) =>
        // Other principals pass untouched, without a wait of this filter's own.
        invocation.HttpContext.User.FindFirst(ViewerTokens.StudyClaim)?.Value is { } allowed ? RestrictAsync(invocation, next, allowed) : next(invocation);

    private static async ValueTask<object?> RestrictAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next, string allowed)
    {
        var http = invocation.HttpContext;

        if (http.Request.RouteValues.TryGetValue("study", out var routeStudy) && routeStudy is string study)
        {
            if (!string.Equals(study, allowed, StringComparison.Ordinal))
            {
                return Problems.Create(StatusCodes.Status403Forbidden, "Forbidden", "The viewer token does not grant this study.");
            }
        }
        else
        {
            // A search across studies answers the token's study only: its StudyInstanceUID key is forced.
            // A key the client sent that does not list the token's study can match nothing.
            var query = new Dictionary<string, StringValues>(StringComparer.OrdinalIgnoreCase);
            var asked = new List<string>();
            foreach (var (name, values) in http.Request.Query)
            {
                if (name.Equals("StudyInstanceUID", StringComparison.OrdinalIgnoreCase) || name.Equals(DicomTags.StudyInstanceUID.JsonKey(), StringComparison.OrdinalIgnoreCase))
                {
                    asked.AddRange(values.SelectMany(v => (v ?? "").Split([',', '\\'], StringSplitOptions.TrimEntries)));
                    continue;
                }

                query[name] = values;
            }

            if (asked.Count > 0 && !asked.Contains(allowed, StringComparer.Ordinal))
            {
                await RecordUseAsync(http, allowed);
                return TypedResults.NoContent();
            }

            query["StudyInstanceUID"] = allowed;
            http.Request.Query = new QueryCollection(query);
        }

        // The carrier is not a query key of QIDO-RS (whose parsing is strict).
        if (http.Request.Query.ContainsKey(ViewerTokenAuthenticationHandler.QueryParameter))
        {
            http.Request.Query = new QueryCollection(http.Request.Query
                .Where(q => !q.Key.Equals(ViewerTokenAuthenticationHandler.QueryParameter, StringComparison.OrdinalIgnoreCase))
                .ToDictionary(q => q.Key, q => q.Value, StringComparer.OrdinalIgnoreCase));
        }

        await RecordUseAsync(http, allowed);
        return await next(invocation);
    }

    /// <summary>Audit before access: if the use cannot be recorded, the request fails rather than go unrecorded.</summary>
    private static async Task RecordUseAsync(HttpContext http, string study)
    {
        var user = http.User;
        var tokenId = Guid.ParseExact(user.FindFirst(ViewerTokens.TokenIdClaim)!.Value, "N");
        var store = http.RequestServices.GetRequiredService<IDocumentStore>();
        var clock = http.RequestServices.GetRequiredService<TimeProvider>();
        await using var session = store.LightweightSession(user.TenantId());
        session.Events.Append(tokenId, new ViewerTokenUsed(
            tokenId, study, $"{http.Request.Method} {http.Request.PathBase}{http.Request.Path}", new Actor(user.Subject(), "viewer-token"), clock.GetUtcNow()));
        await session.SaveChangesAsync(http.RequestAborted);
    }
}
