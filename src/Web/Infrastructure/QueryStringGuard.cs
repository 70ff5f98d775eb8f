using EventSourced.Web.Shared.Errors;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Query values that can never be valid anywhere: a NUL character, which PostgreSQL text cannot hold (so it
/// can match nothing and store nothing). Refused once, before any endpoint passes the value to a query,
/// in the dialect's error shape.
/// </summary>
public static class QueryStringGuard
{
    public static IApplicationBuilder UseQueryStringGuard(this IApplicationBuilder app) => app.Use(next => context =>
        // A NUL can only arrive percent-encoded (%00) or raw: a query string with neither is passed on untouched,
        // without parsing it or waiting on the rest of the pipeline here.
        MayHoldNul(context.Request.QueryString) ? GuardAsync(context, next) : next(context));

    private static bool MayHoldNul(QueryString query) =>
        query.Value is { Length: > 0 } raw && (raw.Contains('\0') || raw.Contains("%00", StringComparison.Ordinal));

    private static async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        var offending = context.Request.Query.FirstOrDefault(p => p.Key.Contains('\0') || p.Value.Any(v => v?.Contains('\0') == true)).Key;
        if (offending is null)
        {
            await next(context);
            return;
        }

        const string message = "A query parameter contains a NUL character.";
        if (ArchiveErrors.IsArchiveRequest(context.Request))
        {
            await ArchiveErrors.WriteAsync(context, ArchiveErrors.InvalidPostValue, null, message);
            return;
        }

        await Problems.BadRequest($"{message} ({Shorten(offending)})").ExecuteAsync(context);
    }

    private static string Shorten(string name) => (name.Length <= 40 ? name : name[..40]).Replace('\0', '?');
}
