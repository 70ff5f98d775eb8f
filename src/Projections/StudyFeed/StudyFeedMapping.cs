using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Reports;
using EventSourced.Domain.Studies;
using JasperFx.Events;

namespace EventSourced.Projections.StudyFeed;

/// <summary>
/// The one place where an event becomes study-feed entries. Every consumer of study changes (document
/// e's <c>studyEvents</c>, the DICOMweb change feed, the study's audit history) reads what this switch
/// produces; a new study event is one more <c>case</c> here (and, if it is a new kind of change, one more
/// <see cref="StudyChangeKind"/>). Pure: everything comes from the event and its metadata, so a rebuild
/// gives the same entries.
/// </summary>
public static class StudyFeedMapping
{
    /// <summary>
    /// Order events that do not carry their StudyInstanceUID: the projection looks the study up in the
    /// order's first event (<see cref="OrderCreated"/>, always in the log) and passes it to <see cref="Map"/>.
    /// </summary>
    public static Guid? OrderWhoseStudyIsNeeded(object data) => data switch
    {
        OrderFailed e => e.OrderId,
        OrderDeleted e => e.OrderId,
        OrderProcedureStepStarted e => e.OrderId,
        OrderProcedureStepCompleted e => e.OrderId,
        OrderProcedureStepCanceled e => e.OrderId,
        _ => null,
    };

    /// <summary>The entries for one event; empty when the event is not a change of a study.</summary>
    public static IReadOnlyList<StudyFeedEntry> Map(IEvent e, string? studyOfOrder = null) => e.Data switch
    {
        InstanceStored x => [Instance(e, StudyChangeKind.InstanceStored, x.Instance, x.StoredBy, x.StoredAt)],
        InstanceReplaced x => [Instance(e, StudyChangeKind.InstanceReplaced, x.Instance, x.ReplacedBy, x.ReplacedAt) with
        {
            Details = new() { ["previousSha256"] = x.PreviousSha256 },
        }],
        InstanceFiledInArchive x => [Entry(e, StudyChangeKind.InstanceFiledInArchive, x.StudyInstanceUid, x.FiledBy, x.FiledAt) with
        {
            SeriesInstanceUid = x.SeriesInstanceUid,
            SopInstanceUid = x.SopInstanceUid,
            SopClassUid = x.SopClassUid,
            Details = new() { ["project"] = x.Project, ["archive"] = x.Archive },
        }],
        OrderCreated x => [Entry(e, StudyChangeKind.OrderCreated, x.Details.StudyInstanceUid, x.CreatedBy, x.CreatedAt) with
        {
            OrderId = x.OrderId,
            Details = new() { ["accessionNumber"] = x.Details.AccessionNumber },
        }],
        OrderFailed x when studyOfOrder is not null => [Entry(e, StudyChangeKind.OrderFailed, studyOfOrder, x.FailedBy, x.FailedAt) with
        {
            OrderId = x.OrderId,
            Reason = $"{x.Reason}: {x.Detail}",
        }],
        OrderDeleted x when studyOfOrder is not null => [Entry(e, StudyChangeKind.OrderDeleted, studyOfOrder, x.DeletedBy, x.DeletedAt) with { OrderId = x.OrderId }],
        OrderProcedureStepStarted x when studyOfOrder is not null =>
            [Entry(e, StudyChangeKind.ProcedureStepStarted, studyOfOrder, x.StartedBy, x.StartedAt) with { OrderId = x.OrderId }],
        OrderProcedureStepCompleted x when studyOfOrder is not null =>
            [Entry(e, StudyChangeKind.ProcedureStepCompleted, studyOfOrder, x.CompletedBy, x.CompletedAt) with { OrderId = x.OrderId }],
        OrderProcedureStepCanceled x when studyOfOrder is not null =>
            [Entry(e, StudyChangeKind.ProcedureStepCanceled, studyOfOrder, x.CanceledBy, x.CanceledAt) with { OrderId = x.OrderId, Reason = x.Reason }],
        ReportDelivered x => [Entry(e, StudyChangeKind.ReportDelivered, x.StudyInstanceUid, x.DeliveredBy, x.DeliveredAt) with
        {
            OrderId = x.OrderId,
            Details = new()
            {
                ["reportId"] = x.ReportId.ToString(),
                ["reportType"] = x.ReportType,
                ["version"] = x.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["mediaType"] = x.Content.MediaType,
            },
        }],
        OrderAddedToStudyGroup x => [Entry(e, StudyChangeKind.OrderAddedToStudyGroup, x.StudyInstanceUid, x.AddedBy, x.AddedAt) with
        {
            OrderId = x.OrderId,
            Details = new() { ["studyGroup"] = x.StudyGroup },
        }],

        // The study-lifecycle events (patient update/merge/move/reconcile/swap, deprecation, restore,
        // deletion, KOS) are added here, one case each, when they exist: see docs/architecture.md,
        // "The study feed".
        _ => [],
    };

    private static StudyFeedEntry Instance(IEvent e, StudyChangeKind kind, StoredInstance instance, Actor by, DateTimeOffset at) =>
        Entry(e, kind, instance.StudyInstanceUid, by, at) with
        {
            SeriesInstanceUid = instance.SeriesInstanceUid,
            SopInstanceUid = instance.SopInstanceUid,
            SopClassUid = instance.SopClassUid,
            Channel = instance.Channel.ToString(),
            Metadata = instance.Header,
        };

    private static StudyFeedEntry Entry(IEvent e, StudyChangeKind kind, string studyInstanceUid, Actor by, DateTimeOffset at) => new()
    {
        Sequence = e.Sequence,
        Kind = kind,
        EventType = e.EventTypeName,
        StreamId = e.StreamId,
        StreamVersion = e.Version,
        StudyInstanceUid = studyInstanceUid,
        OccurredAt = at,
        Subject = by.Subject,
        Via = by.Via,
        CorrelationId = e.CorrelationId,
    };

    /// <summary>Numbers the entries of one event and gives them their ids.</summary>
    public static IEnumerable<StudyFeedEntry> Numbered(IReadOnlyList<StudyFeedEntry> entries) =>
        entries.Select((entry, index) => entry with
        {
            Index = index,
            Id = $"{entry.Sequence}:{index}",
            ChangeFeedAction = StudyChangeKinds.ChangeFeedAction(entry.Kind, entry.SopInstanceUid),
        });
}
