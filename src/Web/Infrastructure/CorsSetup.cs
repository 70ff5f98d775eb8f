using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Browser access (CORS, the Fetch standard): which web origins may call the service from a page, such as a
/// DICOMweb viewer served from another origin. <c>Cors:Origins</c> lists them (an array, or one
/// comma-separated string); none by default, so no page of another origin can read our answers; <c>*</c>
/// admits any origin (a viewer on the local machine). Credentials are never sent by the browser on its own:
/// every dialect authenticates with an explicit header, so <c>Authorization</c> (and the archive's
/// <c>X-USERNAME</c>/<c>X-PASSWORD</c>) are allowed request headers, not cookies.
/// </summary>
public static class CorsSetup
{
    public const string Section = "Cors";

    /// <summary>The response headers a viewer reads (multipart framing, DICOMweb warnings, paging, report ids).</summary>
    public static readonly string[] ExposedHeaders =
    [
        HeaderNames.ContentType, HeaderNames.ContentLength, HeaderNames.ContentLocation, HeaderNames.ContentDisposition,
        HeaderNames.Warning, HeaderNames.Location, HeaderNames.ETag, HeaderNames.LastModified, HeaderNames.AcceptRanges,
        HeaderNames.ContentRange, "X-Report-Id", "X-Report-Version",
    ];

    public static readonly string[] AllowedHeaders =
    [
        HeaderNames.Authorization, HeaderNames.Accept, HeaderNames.ContentType, HeaderNames.Range,
        "X-USERNAME", "X-PASSWORD", "X-Requested-With",
    ];

    public static IServiceCollection AddBrowserAccess(this IServiceCollection services, IConfiguration configuration)
    {
        var origins = Origins(configuration);
        services.AddCors(options => options.AddDefaultPolicy(policy =>
        {
            if (origins.Contains("*"))
            {
                policy.AllowAnyOrigin();
            }
            else
            {
                policy.WithOrigins(origins);
            }

            policy.WithMethods("GET", "HEAD", "POST", "PUT", "DELETE")
                .WithHeaders(AllowedHeaders)
                .WithExposedHeaders(ExposedHeaders)
                .SetPreflightMaxAge(TimeSpan.FromHours(1));
        }));
        return services;
    }

    /// <summary>
    /// Answers CORS preflights (OPTIONS with Origin and Access-Control-Request-Method) before authentication:
    /// a browser never sends credentials on a preflight, so it must not meet a 401. An origin not configured
    /// gets a 204 without CORS headers, which the browser reads as a refusal.
    /// </summary>
    public static WebApplication UseBrowserAccess(this WebApplication app)
    {
        app.UseCors();
        return app;
    }

    private static string[] Origins(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section).GetSection("Origins");
        var list = section.GetChildren().Select(c => c.Value).ToList();
        if (section.Value is { } single)
        {
            list.Add(single);
        }

        return list.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(o => o.TrimEnd('/')).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
    }
}
