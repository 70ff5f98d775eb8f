using EventSourced.Domain.Common;

namespace EventSourced.Application.Common;

/// <summary>What a command handler answers: a value, or the rejection that stopped it (nothing was appended then).</summary>
public sealed record CommandResult<T>(T? Value, Rejection? Rejected)
    where T : class
{
    public static CommandResult<T> Ok(T value) => new(value, null);

    public static CommandResult<T> Reject(Rejection rejection) => new(null, rejection);
}
