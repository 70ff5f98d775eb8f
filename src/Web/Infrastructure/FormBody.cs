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
