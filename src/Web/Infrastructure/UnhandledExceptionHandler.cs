using EventSourced.Web.Shared.Errors;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Last line: what escapes an endpoint becomes a problem document. Client faults the framework raises
/// keep their 4xx; a command that did not finish in time, a database that is slow, restarting or out
/// of connections, or a write that still collided with concurrent writers after Wolverine's retries, is a
/// 503 with Retry-After (retryable); anything else is a 500 whose detail reveals nothing of the server.
/// </summary>
public sealed class UnhandledExceptionHandler(IProblemDetailsService problems, ILogger<UnhandledExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Seconds a client is asked to wait after a 503: about the time PostgreSQL takes to restart.</summary>
    public const int RetryAfterSeconds = 2;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, "Bad Request", bad.Message),
            OperationCanceledException when context.RequestAborted.IsCancellationRequested => (499, "Client Closed Request", "The client went away."),
            _ when DatabaseUnavailable(exception) => (StatusCodes.Status503ServiceUnavailable, "Service Unavailable",
                "The database did not answer in time; the request may be retried after the time in Retry-After."),
            _ when WriteContention(exception) => (StatusCodes.Status503ServiceUnavailable, "Service Unavailable",
                "Too many concurrent writes to the same record; the request may be retried after the time in Retry-After."),
            _ => (StatusCodes.Status500InternalServerError, "Internal Server Error", "An unexpected error occurred. It has been logged."),
        };

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            logger.LogWarning(exception, "Database unavailable or contended on {Method} {Path}", context.Request.Method, context.Request.Path);
            if (!context.Response.HasStarted)
            {
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        else if (status >= 500)
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

    /// <summary>
    /// A wait that ran out (command timeout, pool exhaustion, Wolverine's invoke timeout) or a database
    /// that is going away or not yet back, anywhere in the chain of causes (Marten and Wolverine wrap
    /// Npgsql's exceptions): transient, so a retry later can succeed.
    /// </summary>
    public static bool DatabaseUnavailable(Exception exception) => AnyCause(exception, e => e is TimeoutException
        or PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
            or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.QueryCanceled or PostgresErrorCodes.TooManyConnections }
        or NpgsqlException { IsTransient: true }
        or System.Net.Sockets.SocketException);

    /// <summary>
    /// Concurrent writers of one stream (say, many first studies of one patient at once) that still
    /// collided when Wolverine's retries ran out (an optimistic version conflict, a stream two writers
    /// started, a serialization failure or a deadlock): nothing was written, and the same request later
    /// succeeds. Routes that give a conflict its own meaning (a single-use URL) catch it before this.
    /// </summary>
    public static bool WriteContention(Exception exception) => AnyCause(exception, e => e is JasperFx.ConcurrencyException
        or JasperFx.Events.ExistingStreamIdCollisionException
        or Marten.Exceptions.ExistingStreamIdCollisionException
        or PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected });

    /// <summary>
    /// Whether <paramref name="matches"/> holds for the exception or any of its causes: the chain of inner
    /// exceptions and every branch of an <see cref="AggregateException"/> (Marten and Wolverine wrap Npgsql's).
    /// </summary>
    private static bool AnyCause(Exception exception, Func<Exception, bool> matches)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (matches(e) || (e is AggregateException aggregate && aggregate.InnerExceptions.Any(inner => AnyCause(inner, matches))))
            {
                return true;
            }
        }

        return false;
    }
}
