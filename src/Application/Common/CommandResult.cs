using EventSourced.Domain.Common;

namespace EventSourced.Application.Common;

/// <summary>
/// What a command handler answers: a value, the rejection that stopped it, or the fields that made the
/// command invalid (nothing was appended in either of the last two cases).
/// </summary>
public sealed record CommandResult<T>(T? Value, Rejection? Rejected, IReadOnlyList<FieldError>? Invalid = null)
    where T : class
{
    public static CommandResult<T> Ok(T value) => new(value, null);

    public static CommandResult<T> Reject(Rejection rejection) => new(null, rejection);

    public static CommandResult<T> InvalidFields(IReadOnlyList<FieldError> errors) => new(null, null, errors);
}

/// <summary>A field of a command's input that is missing or invalid, named as the client's dialect names it.</summary>
public sealed record FieldError(string Field, string Message);
