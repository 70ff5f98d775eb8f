using EventSourced.Domain.Common;

namespace EventSourced.Domain.Access;

/// <summary>
/// Document c's new-exam callback body, field for field (the names are the document's, so the JSON kept
/// in the event and forwarded to <c>CALLBACK_URLS</c> reads exactly as the PACS sent it).
/// </summary>
public sealed record NewExamNotification
{
    public string? SourceID { get; init; }
    public required string StudyInstanceUID { get; init; }
    public string? AccessionNumber { get; init; }
    public string? PatientID { get; init; }
    public int? NumberOfStudyRelatedSeries { get; init; }
    public int? NumberOfStudyRelatedInstances { get; init; }
    public IReadOnlyList<string>? ModalitiesInStudy { get; init; }
    public IReadOnlyList<string>? AeTitles { get; init; }
    public IReadOnlyList<string>? StationNames { get; init; }
    public string? EventType { get; init; }
    public string? StudyDate { get; init; }
    public string? StudyTime { get; init; }
    public string? StudyID { get; init; }
    public string? ReferringPhysicianName { get; init; }
    public string? StudyDescription { get; init; }
    public string? PatientName { get; init; }
    public string? PatientBirthDate { get; init; }
    public string? PatientSex { get; init; }
}

/// <summary>A PACS told us of a new exam; <paramref name="ForwardTo"/> are the endpoints it is forwarded to (configuration at the time).</summary>
public sealed record NewExamCallbackReceived(
    Guid CallbackId,
    NewExamNotification Notification,
    IReadOnlyList<string> ForwardTo,
    Actor ReceivedBy,
    DateTimeOffset ReceivedAt);
