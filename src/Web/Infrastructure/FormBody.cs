namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Reads a form body (application/x-www-form-urlencoded or multipart/form-data) with the framework's size
/// limits. The framework reports a client's broken form (a truncated multipart body, a section without a
/// valid Content-Disposition, a NUL in an encoded value) as an exception; here it is the client's fault,
/// returned as a reason, so every dialect answers it with a 400 in its own shape.
/// </summary>
public static class FormBody
{
    public static async Task<(IFormCollection? Form, string? Invalid)> ReadAsync(HttpRequest request, CancellationToken cancellation)
    {
        try
        {
            return (await request.ReadFormAsync(cancellation), null);
        }
        catch (Exception e) when (e is InvalidDataException or IOException && e is not BadHttpRequestException && !cancellation.IsCancellationRequested)
        {
            return (null, $"The form body is malformed: {e.Message}");
        }
    }
}

/// <summary>
/// Query values that can never be valid anywhere: a NUL character, which PostgreSQL text cannot hold (so it
/// can match nothing and store nothing). Refused once, before any endpoint passes the value to a query,
/// in the dialect's error shape.
/// </summary>
public static class QueryStringGuard
{
    public static IApplicationBuilder UseQueryStringGuard(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var offending = context.Request.Query.FirstOrDefault(p => p.Key.Contains('\0') || p.Value.Any(v => v?.Contains('\0') == true)).Key;
        if (offending is null)
        {
            await next(context);
            return;
        }

        const string message = "A query parameter contains a NUL character.";
        if (Archive.ArchiveErrors.IsArchiveRequest(context.Request))
        {
            await Archive.ArchiveErrors.WriteAsync(context, Archive.ArchiveErrors.InvalidPostValue, null, message);
            return;
        }

        await Problems.BadRequest($"{message} ({Shorten(offending)})").ExecuteAsync(context);
    });

    private static string Shorten(string name) => (name.Length <= 40 ? name : name[..40]).Replace('\0', '?');
}
