using EventSourced.Web.Shared.Errors;
using Microsoft.AspNetCore.Diagnostics;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Last line: what escapes an endpoint becomes a problem document. Client faults the framework raises
/// keep their 4xx; a command that did not finish in time is a 503 (retryable); anything else is a 500
/// whose detail reveals nothing of the server.
/// </summary>
public sealed class UnhandledExceptionHandler(IProblemDetailsService problems, ILogger<UnhandledExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, "Bad Request", bad.Message),
            OperationCanceledException when context.RequestAborted.IsCancellationRequested => (499, "Client Closed Request", "The client went away."),
            TimeoutException => (StatusCodes.Status503ServiceUnavailable, "Service Unavailable", "The operation did not complete in time; it may be retried."),
            _ => (StatusCodes.Status500InternalServerError, "Internal Server Error", "An unexpected error occurred. It has been logged."),
        };

        if (status >= 500)
        {
            logger.LogError(exception, "Unhandled exception on {Method} {Path}", context.Request.Method, context.Request.Path);
        }

        context.Response.StatusCode = status;
        if (ArchiveErrors.IsArchiveRequest(context.Request) && !context.Response.HasStarted)
        {
            // Document d's clients read error_type: its shape there, with the status decided above.
            await context.Response.WriteAsJsonAsync(
                new ArchiveError(status >= 500 ? "server_error" : ArchiveErrors.InvalidPostValue, null, detail), cancellationToken);
            return true;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
