namespace EventSourced.Domain.Common;

public enum RejectionKind
{
    /// <summary>The command names something that does not exist (HTTP 404 in most dialects).</summary>
    NotFound,

    /// <summary>The command contradicts the current state (HTTP 409 in most dialects).</summary>
    Conflict,

    /// <summary>The command is well-formed but not acceptable in this state (HTTP 400/422).</summary>
    Invalid,
}

/// <summary>Why a decision produced no events. Decisions return rejections rather than throw: a rejection is an expected outcome.</summary>
public sealed record Rejection(RejectionKind Kind, string Detail)
{
    public static Rejection NotFound(string detail) => new(RejectionKind.NotFound, detail);
    public static Rejection Conflict(string detail) => new(RejectionKind.Conflict, detail);
    public static Rejection Invalid(string detail) => new(RejectionKind.Invalid, detail);
}
