using EventSourced.Web.Shared.Errors;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace EventSourced.Web.Security;

/// <summary>
/// The schemes, and the one default scheme that picks among them by what the request carries:
/// <c>Authorization: Bearer vt_…</c> or <c>?token=vt_…</c> → viewer token (document c);
/// <c>Authorization: Bearer …</c> → OAuth2 access token; any other <c>Authorization</c> → API key
/// (document e); <c>X-USERNAME</c>/<c>X-PASSWORD</c> → archive user (document d); nothing → API key,
/// whose challenge is then the answer (each scheme challenges and forbids in the same shapes).
/// </summary>
public static class AuthenticationSchemes
{
    public const string Default = "Default";

    public static void AddPrincipalSchemes(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<AccessTokenOptions>(configuration.GetSection(AccessTokenOptions.Section));
        services.Configure<ArchiveLoginOptions>(configuration.GetSection(ArchiveLoginOptions.Section));
        services.AddSingleton<SigningKeyRing>();
        services.AddSingleton<AccessTokens>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<VerifiedPasswordCache>();

        services.AddAuthentication(Default)
            .AddPolicyScheme(Default, "By credential", options =>
            {
                options.ForwardDefaultSelector = Select;
                options.Events = NoEvents;
            })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, options => options.Events = NoEvents)
            .AddScheme<AuthenticationSchemeOptions, AccessTokenAuthenticationHandler>(AccessTokenAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, ArchiveUserAuthenticationHandler>(ArchiveUserAuthenticationHandler.SchemeName, null)
            .AddViewerTokens(configuration);
    }

    /// <summary>
    /// The events object of the default and API key schemes, which raise no events: without one, the framework builds
    /// a new placeholder (and a task for it) in every request's handler of each.
    /// </summary>
    private static readonly object NoEvents = new();

    public static string Select(HttpContext context)
    {
        // Document c's viewer token (Bearer vt_…, or ?token=vt_… without an Authorization header) before OAuth2's Bearer.
        if (ViewerTokenAuthenticationHandler.Carries(context.Request))
        {
            return ViewerTokenAuthenticationHandler.SchemeName;
        }

        var headers = context.Request.Headers;
        var authorization = headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || authorization.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return AccessTokenAuthenticationHandler.SchemeName;
        }

        if (authorization.Length == 0 && (headers.ContainsKey(ArchiveUserAuthenticationHandler.UsernameHeader) || headers.ContainsKey(ArchiveUserAuthenticationHandler.PasswordHeader)))
        {
            return ArchiveUserAuthenticationHandler.SchemeName;
        }

        return ApiKeyAuthenticationHandler.SchemeName;
    }
}

/// <summary>
/// The schemes' common answers: 401 and 403 in document d's shape on /api/v1 (authentication_failed,
/// api_call_not_allowed), RFC 9457 problem details everywhere else.
/// </summary>
public abstract class PrincipalAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, System.Text.Encodings.Web.UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>What a 401 says outside /api/v1.</summary>
    protected abstract string ChallengeDetail { get; }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        await BeforeChallengeAsync();
        if (Response.HasStarted)
        {
            return;
        }

        await WriteAsync(Context, StatusCodes.Status401Unauthorized, ArchiveErrors.AuthenticationFailed, null,
            ArchiveErrors.IsArchiveRequest(Request) ? "Valid X-USERNAME and X-PASSWORD headers (or another accepted credential) are required." : ChallengeDetail);
    }

    /// <summary>A scheme's extra say before the 401 (a WWW-Authenticate header, a 429 instead).</summary>
    protected virtual Task BeforeChallengeAsync() => Task.CompletedTask;

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteAsync(Context, StatusCodes.Status403Forbidden, ArchiveErrors.ApiCallNotAllowed, null,
            ArchiveErrors.IsArchiveRequest(Request)
                ? "The user does not have the permission this call needs."
                : "The credentials do not grant the scope this operation needs.");

    public static async Task WriteAsync(HttpContext context, int status, string archiveErrorType, string? archiveSuberror, string detail)
    {
        if (ArchiveErrors.IsArchiveRequest(context.Request))
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new ArchiveError(archiveErrorType, archiveSuberror, detail), context.RequestAborted);
            return;
        }

        context.Response.StatusCode = status;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = status,
                Title = status switch { 401 => "Unauthorized", 403 => "Forbidden", 429 => "Too Many Requests", _ => null },
                Detail = detail,
            },
        });
    }
}
