using EventSourced.Domain.Access;
using EventSourced.Domain.Common;
using Marten.Events.Aggregation;

namespace EventSourced.Projections.Access;

/// <summary>Document c's "dedicated collection" of new-exam callbacks received, one document per callback.</summary>
public sealed record ReceivedCallback
{
    public Guid Id { get; init; }
    public required string StudyInstanceUid { get; init; }
    public string? SourceId { get; init; }
    public string? EventType { get; init; }
    public required NewExamNotification Notification { get; init; }
    public IReadOnlyList<string> ForwardTo { get; init; } = [];
    public required Actor ReceivedBy { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
}

public partial class ReceivedCallbackProjection : SingleStreamProjection<ReceivedCallback, Guid>
{
    public static ReceivedCallback Create(NewExamCallbackReceived received) => new()
    {
        Id = received.CallbackId,
        StudyInstanceUid = received.Notification.StudyInstanceUID,
        SourceId = received.Notification.SourceID,
        EventType = received.Notification.EventType,
        Notification = received.Notification,
        ForwardTo = received.ForwardTo,
        ReceivedBy = received.ReceivedBy,
        ReceivedAt = received.ReceivedAt,
    };
}
