using EventSourced.Domain.Common;

namespace EventSourced.Domain.Access;

// Document b's presigned uploads: one stream per issued URL (key: the URL's random nonce). The issue is
// recorded so the PUT, which carries no credential, stores under the principal that asked for the URL;
// the consumption is the URL's single use, appended at the stream's expected version so two PUTs of
// one URL can never both win (docs/architecture.md, "Presigned uploads").

public sealed record UploadUrlIssued(Guid UploadId, string KeyId, DateTimeOffset ExpiresAt, Actor IssuedBy, DateTimeOffset IssuedAt);

public sealed record UploadUrlConsumed(
    Guid UploadId,
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string SopInstanceUid,
    Actor UploadedBy,
    DateTimeOffset ConsumedAt);
