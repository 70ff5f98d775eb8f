namespace EventSourced.Web.Shared.Errors;

/// <summary>
/// Document d's error shape (archive API v1): <c>{"error_type": …, "suberror_type": …, "message": …}</c>.
/// The document names the types but not the body or the status codes; the choices are in
/// docs/api-compatibility.md ("Document d: errors"). Every /api/v1 response that is not a success uses
/// this shape, authentication and permission failures included.
/// </summary>
public static class ArchiveErrors
{
    // error_type values named by the document.
    public const string ObjectNotFound = "object_not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string ApiCallNotAllowed = "api_call_not_allowed";
    public const string InvalidPostValue = "invalid_post_value";
    public const string MultipleObjectsFound = "multiple_objects_found";

    // The document names no type for a missing or wrong X-USERNAME/X-PASSWORD: ours.
    public const string AuthenticationFailed = "authentication_failed";

    // Parameters the call needs are missing: the document has no type for it either; ours.
    public const string MissingParameter = "missing_parameter";

    // A delete or restore while a deprecation of the study is pending: the document has no type for it; ours.
    public const string ObjectLocked = "object_locked";

    /// <summary>The status code each error type answers with.</summary>
    public static int StatusOf(string errorType) => errorType switch
    {
        ObjectNotFound => StatusCodes.Status404NotFound,
        MethodNotAllowed => StatusCodes.Status405MethodNotAllowed,
        ApiCallNotAllowed => StatusCodes.Status403Forbidden,
        AuthenticationFailed => StatusCodes.Status401Unauthorized,
        MultipleObjectsFound => StatusCodes.Status409Conflict,
        ObjectLocked => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status400BadRequest,
    };

    public static IResult Error(string errorType, string? suberrorType, string message) =>
        TypedResults.Json(new ArchiveError(errorType, suberrorType, message), statusCode: StatusOf(errorType));

    /// <summary>For authentication handlers and middleware, which write the response themselves.</summary>
    public static Task WriteAsync(HttpContext context, string errorType, string? suberrorType, string message)
    {
        context.Response.StatusCode = StatusOf(errorType);
        return context.Response.WriteAsJsonAsync(new ArchiveError(errorType, suberrorType, message), context.RequestAborted);
    }

    public static bool IsArchiveRequest(HttpRequest request) =>
        request.Path.StartsWithSegments("/api/v1", StringComparison.OrdinalIgnoreCase);
}

public sealed record ArchiveError(
    [property: System.Text.Json.Serialization.JsonPropertyName("error_type")] string ErrorType,
    [property: System.Text.Json.Serialization.JsonPropertyName("suberror_type")] string? SuberrorType,
    [property: System.Text.Json.Serialization.JsonPropertyName("message")] string Message);
