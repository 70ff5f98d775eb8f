namespace EventSourced.Domain.Common;

/// <summary>
/// Who caused an event and through which door: every event carries one, so an auditor replaying a
/// stream sees who did what through which API without joining anything else.
/// </summary>
/// <param name="Subject">The authenticated principal's subject (API key id, OAuth2 client id, user name) or <c>system</c>.</param>
/// <param name="Via">The API dialect or component the command came through, e.g. <c>pacs-api</c>, <c>deadline</c>.</param>
public sealed record Actor(string Subject, string Via)
{
    public static Actor System(string component) => new("system", component);
}
