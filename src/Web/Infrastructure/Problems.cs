using EventSourced.Domain.Common;

namespace EventSourced.Web.Infrastructure;

/// <summary>RFC 9457 problem details for dialects that document no error shape.</summary>
public static class Problems
{
    public static IResult From(Rejection rejection) => rejection.Kind switch
    {
        RejectionKind.NotFound => Create(StatusCodes.Status404NotFound, "Not Found", rejection.Detail),
        RejectionKind.Conflict => Create(StatusCodes.Status409Conflict, "Conflict", rejection.Detail),
        _ => Create(StatusCodes.Status400BadRequest, "Bad Request", rejection.Detail),
    };

    public static IResult BadRequest(string detail) => Create(StatusCodes.Status400BadRequest, "Bad Request", detail);

    public static IResult NotFound(string detail) => Create(StatusCodes.Status404NotFound, "Not Found", detail);

    public static IResult Create(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);

    /// <summary>A 400 naming each bad field, as <c>errors: { field: [messages] }</c>.</summary>
    public static IResult Validation(IEnumerable<(string Field, string Message)> errors) =>
        TypedResults.ValidationProblem(
            errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()),
            title: "One or more fields are missing or invalid.");
}
