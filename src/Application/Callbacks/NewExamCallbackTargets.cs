namespace EventSourced.Application.Callbacks;

/// <summary>The endpoints every image availability message is forwarded to (document c's <c>CALLBACK_URLS</c>), as configured at start.</summary>
public sealed record NewExamCallbackTargets(IReadOnlyList<string> Urls);
