using EventSourced.Domain.Common;

namespace EventSourced.Domain.Access;

// Document c's viewer tokens: one stream per token (key: the token id inside the signed token). The
// issue, and every use of the token (who, which study, which endpoint, when), are events: the access
// log of a study opened in a viewer is its tokens' streams.

public sealed record ViewerTokenIssued(
    Guid TokenId,
    string StudyInstanceUid,
    string? PatientId,
    string? User,
    string Role,
    DateTimeOffset ExpiresAt,
    Actor IssuedBy,
    DateTimeOffset IssuedAt);

/// <param name="UsedBy">The user named in the token (subject), through <c>viewer-token</c>.</param>
/// <param name="Endpoint">The method and path used, e.g. <c>GET /dicomweb/studies/1.2.3/metadata</c>.</param>
public sealed record ViewerTokenUsed(Guid TokenId, string StudyInstanceUid, string Endpoint, Actor UsedBy, DateTimeOffset UsedAt);
