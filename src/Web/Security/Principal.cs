using System.Security.Claims;

namespace EventSourced.Web.Security;

/// <summary>
/// The one principal every dialect's credentials map onto: tenant (organization), subject, scopes, and
/// the scheme that authenticated it. Handlers and endpoints read these claims and nothing else.
/// </summary>
public static class Principal
{
    public const string TenantClaim = "tenant";
    public const string SubjectClaim = "sub";
    public const string ScopeClaim = "scope";

    public static ClaimsPrincipal Create(string scheme, string tenantId, string subject, IEnumerable<string> scopes)
    {
        var claims = new List<Claim> { new(TenantClaim, tenantId), new(SubjectClaim, subject) };
        claims.AddRange(scopes.Select(scope => new Claim(ScopeClaim, scope)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, SubjectClaim, null));
    }

    public static string TenantId(this ClaimsPrincipal user) =>
        user.FindFirst(TenantClaim)?.Value ?? throw new InvalidOperationException("The request has no authenticated tenant.");

    public static string Subject(this ClaimsPrincipal user) =>
        user.FindFirst(SubjectClaim)?.Value ?? throw new InvalidOperationException("The request has no authenticated subject.");
}
