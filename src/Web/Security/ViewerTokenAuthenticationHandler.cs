using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace EventSourced.Web.Security;

/// <summary>
/// Document c's viewer token as an authentication scheme: <c>Authorization: Bearer vt_…</c>, or the query
/// parameter <c>token=vt_…</c> for viewers that load images by URL. The principal is the one principal
/// (tenant, subject = the token's user) with no scope and a study restriction claim
/// (<see cref="ViewerTokens.StudyClaim"/>), which <c>DicomWeb/ViewerStudyRestriction</c> enforces.
/// </summary>
public sealed class ViewerTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ViewerTokens tokens,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ViewerToken";
    public const string QueryParameter = "token";

    /// <summary>Whether the request carries a viewer token (the forward selector of the default scheme asks this).</summary>
    public static bool Carries(HttpRequest request) => TokenOf(request) is not null;

    private static string? TokenOf(HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count == 1 && header[0] is { } value
            && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && value.AsSpan(7).Trim().StartsWith(ViewerTokens.Prefix, StringComparison.Ordinal))
        {
            return value[7..].Trim();
        }

        return header.Count == 0 && request.Query[QueryParameter] is [{ } query] && query.StartsWith(ViewerTokens.Prefix, StringComparison.Ordinal)
            ? query
            : null;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (TokenOf(Request) is not { } token)
        {
            return AuthenticateResult.NoResult();
        }

        var claims = await tokens.VerifyAsync(token, Context.RequestAborted);
        return claims is null
            ? AuthenticateResult.Fail("Invalid or expired viewer token.")
            : AuthenticateResult.Success(new AuthenticationTicket(ViewerTokens.PrincipalFor(claims, SchemeName), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status401Unauthorized, "Unauthorized", "A valid, unexpired viewer token is required.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status403Forbidden, "Forbidden", "A viewer token grants QIDO-RS and WADO-RS of its one study only.");

    private async Task WriteProblem(int status, string title, string detail)
    {
        Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}

public static class ViewerTokenAuthentication
{
    /// <summary>
    /// Registers the viewer-token scheme and its services. The default scheme's forward selector sends a
    /// request to it when <see cref="ViewerTokenAuthenticationHandler.Carries"/> is true.
    /// </summary>
    public static AuthenticationBuilder AddViewerTokens(this AuthenticationBuilder builder, IConfiguration configuration)
    {
        builder.Services.Configure<ViewerTokenOptions>(configuration.GetSection(ViewerTokenOptions.Section));
        builder.Services.AddSingleton<ViewerTokens>();
        return builder.AddScheme<AuthenticationSchemeOptions, ViewerTokenAuthenticationHandler>(ViewerTokenAuthenticationHandler.SchemeName, null);
    }
}
