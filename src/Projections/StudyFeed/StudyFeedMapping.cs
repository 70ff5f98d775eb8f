using EventSourced.Domain.Common;
using EventSourced.Domain.Forwarding;
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
    /// Events that do not carry their StudyInstanceUID: the projection looks the study up in the first
    /// event of the stream named here (an order's <see cref="OrderCreated"/>, a study's first
    /// <see cref="InstanceStored"/>, always in the log; see <see cref="StudyOfFirstEvent"/>) and passes it
    /// to <see cref="Map"/>.
    /// </summary>
    public static Guid? StreamWhoseStudyIsNeeded(object data) => data switch
    {
        StudyDeprecationCompleted e => e.StudyStreamId,
        OrderFailed e => e.OrderId,
        OrderDeleted e => e.OrderId,
        OrderProcedureStepStarted e => e.OrderId,
        OrderProcedureStepCompleted e => e.OrderId,
        OrderProcedureStepCanceled e => e.OrderId,
        _ => null,
    };

    /// <summary>The StudyInstanceUID a stream's first event names (an order's or a study's).</summary>
    public static string? StudyOfFirstEvent(object data) => data switch
    {
        OrderCreated e => e.Details.StudyInstanceUid,
        InstanceStored e => e.Instance.StudyInstanceUid,
        InstancesStored e => e.Instances[0].StudyInstanceUid,
        StudyPatientAssigned e => e.StudyInstanceUid,
        SeriesRefiledIn e => e.StudyInstanceUid,
        _ => null,
    };

    /// <summary>The type alias of <see cref="InstanceStored"/> in the log, which each instance of an <see cref="InstancesStored"/> is shown as.</summary>
    public static readonly string InstanceStoredType = typeof(InstanceStored).GetEventTypeName();

    /// <summary>The entries for one event; empty when the event is not a change of a study.</summary>
    public static IReadOnlyList<StudyFeedEntry> Map(IEvent e, string? studyOfStream = null) => e.Data switch
    {
        InstanceStored x => [Instance(e, StudyChangeKind.InstanceStored, x.Instance, x.StoredBy, x.StoredAt)],
        // One entry per instance, each as its own InstanceStored's would be: consumers see an instance stored.
        InstancesStored x => [.. x.Instances.Select(i => Instance(e, StudyChangeKind.InstanceStored, i, x.StoredBy, x.StoredAt) with
        {
            EventType = InstanceStoredType,
        })],
        InstanceReplaced x => [Instance(e, StudyChangeKind.InstanceReplaced, x.Instance, x.ReplacedBy, x.ReplacedAt) with
        {
            Details = new() { ["previousSha256"] = x.PreviousSha256 },
        }],
        InstanceErased x => [Instance(e, StudyChangeKind.InstanceErased, x.Instance, x.ErasedBy, x.ErasedAt) with
        {
            Details = new() { ["previousSha256"] = x.PreviousSha256, ["erasureId"] = x.ErasureId.ToString() },
        }],
        // InstanceFiledInArchive is left out: every channel files into document d's default archive in the
        // same transaction as the store, so it would repeat each InstanceStored entry (which names the channel).
        OrderCreated x => [Entry(e, StudyChangeKind.OrderCreated, x.Details.StudyInstanceUid, x.CreatedBy, x.CreatedAt) with
        {
            OrderId = x.OrderId,
            Details = new() { ["accessionNumber"] = x.Details.AccessionNumber },
        }],
        OrderFailed x when studyOfStream is not null => [Entry(e, StudyChangeKind.OrderFailed, studyOfStream, x.FailedBy, x.FailedAt) with
        {
            OrderId = x.OrderId,
            Reason = $"{x.Reason}: {x.Detail}",
        }],
        OrderDeleted x when studyOfStream is not null => [Entry(e, StudyChangeKind.OrderDeleted, studyOfStream, x.DeletedBy, x.DeletedAt) with { OrderId = x.OrderId }],
        OrderProcedureStepStarted x when studyOfStream is not null =>
            [Entry(e, StudyChangeKind.ProcedureStepStarted, studyOfStream, x.StartedBy, x.StartedAt) with { OrderId = x.OrderId }],
        OrderProcedureStepCompleted x when studyOfStream is not null =>
            [Entry(e, StudyChangeKind.ProcedureStepCompleted, studyOfStream, x.CompletedBy, x.CompletedAt) with { OrderId = x.OrderId }],
        OrderProcedureStepCanceled x when studyOfStream is not null =>
            [Entry(e, StudyChangeKind.ProcedureStepCanceled, studyOfStream, x.CanceledBy, x.CanceledAt) with { OrderId = x.OrderId, Reason = x.Reason }],
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

        StudyPatientAssigned x => [Entry(e, PatientChangeKind(x.Reason), x.StudyInstanceUid, x.AssignedBy, x.AssignedAt) with
        {
            Details = PatientChange(x),
        }],
        StudyRelocated x => [Entry(e, StudyChangeKind.Relocated, x.StudyInstanceUid, x.RelocatedBy, x.RelocatedAt) with
        {
            Details = new()
            {
                ["from"] = x.From.Name, ["fromKind"] = StorageKindName(x.From.Kind),
                ["to"] = x.To.Name, ["toKind"] = StorageKindName(x.To.Kind),
                ["author"] = x.Author,
            },
        }],
        StudyDeprecationStarted x => [Entry(e, StudyChangeKind.DeprecationStarted, x.StudyInstanceUid, x.StartedBy, x.StartedAt) with
        {
            SeriesInstanceUid = x.SeriesInstanceUid,
            Reason = x.Reason,
            Details = new() { ["deprecationId"] = x.DeprecationId.ToString(), ["author"] = x.Author },
        }],
        StudyDeprecationCompleted x when studyOfStream is not null => [.. x.Hidden.Select(h =>
            Entry(e, StudyChangeKind.InstanceDeprecated, studyOfStream, Actor.System("deprecation"), x.CompletedAt) with
            {
                SeriesInstanceUid = h.SeriesInstanceUid,
                SopInstanceUid = h.SopInstanceUid,
                Details = new() { ["deprecationId"] = x.DeprecationId.ToString(), ["rejectionKos"] = x.RejectionKosSopInstanceUid },
            })],
        StudyDeprecationRevoked x => [.. x.Restored.Select(r =>
            Instance(e, StudyChangeKind.InstanceRestored, r.Instance, x.RevokedBy, x.RevokedAt) with
            {
                Reason = x.Reason,
                Details = new() { ["deprecationId"] = x.DeprecationId.ToString(), ["author"] = x.Author },
            })],
        SeriesRefiledIn x => [Entry(e, RefilingKind(x.Reason), x.StudyInstanceUid, x.RefiledBy, x.RefiledAt) with
        {
            Details = new()
            {
                ["fromStudyInstanceUid"] = x.FromStudyInstanceUid,
                ["seriesInstanceUids"] = string.Join('\\', x.SeriesInstanceUids),
                ["correctionId"] = x.CorrectionId.ToString(),
            },
        }, .. x.Arrived.Select(a => Instance(e, StudyChangeKind.InstanceRefiledIn, a.Instance, x.RefiledBy, x.RefiledAt) with
        {
            Details = new() { ["fromStudyInstanceUid"] = x.FromStudyInstanceUid, ["correctionId"] = x.CorrectionId.ToString() },
        })],
        SeriesRefiledOut x => [.. x.Departed.Select(d => Entry(e, StudyChangeKind.InstanceRefiledOut, x.StudyInstanceUid, x.RefiledBy, x.RefiledAt) with
        {
            SeriesInstanceUid = d.SeriesInstanceUid,
            SopInstanceUid = d.SopInstanceUid,
            Details = new() { ["toStudyInstanceUid"] = x.ToStudyInstanceUid, ["correctionId"] = x.CorrectionId.ToString() },
        })],
        ForwardRequested x => Forwarding(e, StudyChangeKind.ForwardRequested, x.ForwardId, x.Series, x.RequestedBy, x.RequestedAt, null, new()
        {
            ["job"] = x.Job,
            ["destination"] = x.Destination,
            ["author"] = x.Author,
            ["kind"] = x.Kind.ToString(),
        }),
        SeriesForwarded x => Forwarding(e, StudyChangeKind.SeriesForwarded, x.ForwardId, x.Series, x.ForwardedBy, x.ForwardedAt, null, new()
        {
            ["attempt"] = x.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["files"] = x.Files.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }),
        ForwardFailed x => Forwarding(e, StudyChangeKind.ForwardFailed, x.ForwardId, x.Series, x.FailedBy, x.FailedAt, x.Reason, new()
        {
            ["attempt"] = x.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["retryAt"] = x.RetryAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture) ?? "never: dead-lettered",
        }),
        ForwardRetried x => Forwarding(e, StudyChangeKind.ForwardRetried, x.ForwardId, x.Series, x.RetriedBy, x.RetriedAt, null, new()
        {
            ["attempt"] = x.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }),
        KeyObjectSelectionCreated x => [Entry(e, StudyChangeKind.KosStored, x.StudyInstanceUid, x.CreatedBy, x.CreatedAt) with
        {
            SeriesInstanceUid = x.SeriesInstanceUid,
            SopInstanceUid = x.SopInstanceUid,
            Details = KosDetails(x),
        }],
        StudyContentDeleted x => x.Hidden.Count == 0
            ? [Deleted(e, x) with { SeriesInstanceUid = x.ArchiveSeriesUid }]
            : [.. x.Hidden.Select(h => Deleted(e, x) with { SeriesInstanceUid = h.SeriesInstanceUid, SopInstanceUid = h.SopInstanceUid })],
        DeletedContentRestored x => [.. x.Restored.Select(r =>
            Instance(e, StudyChangeKind.InstanceRestored, r.Instance, x.RestoredBy, x.RestoredAt) with
            {
                Reason = x.Reason,
                Details = new() { ["deletionId"] = x.DeletionId.ToString() },
            })],
        _ => [],
    };

    /// <summary>A forward's event: one entry per series it sends (a container's slides may span series and studies).</summary>
    private static IReadOnlyList<StudyFeedEntry> Forwarding(
        IEvent e, StudyChangeKind kind, Guid forwardId, IReadOnlyList<ForwardedSeries> series, Actor by, DateTimeOffset at, string? reason, Dictionary<string, string> details)
    {
        details["forwardId"] = forwardId.ToString();
        return [.. series.Select(s => Entry(e, kind, s.StudyInstanceUid, by, at) with
        {
            SeriesInstanceUid = s.SeriesInstanceUid,
            Reason = reason,
            Details = new(details),
        })];
    }

    private static StudyChangeKind RefilingKind(SeriesRefilingReason reason) => reason switch
    {
        SeriesRefilingReason.Reconciled => StudyChangeKind.Reconciled,
        SeriesRefilingReason.Swapped => StudyChangeKind.Swapped,
        _ => StudyChangeKind.CorrectionUndone,
    };

    private static string StorageKindName(StorageKind kind) => kind == StorageKind.Bucket ? "bucket" : "physicalMedium";

    private static Dictionary<string, string> KosDetails(KeyObjectSelectionCreated x)
    {
        var details = new Dictionary<string, string>
        {
            ["titleCode"] = x.TitleCodeValue,
            ["referencedInstances"] = x.ReferencedInstances.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (x.CallingAeTitle is { } callingAe)
        {
            details["callingAE"] = callingAe;
        }

        return details;
    }

    /// <summary>A delete's entry: one per instance that left every read path, or one for the study when it only left the archive.</summary>
    private static StudyFeedEntry Deleted(IEvent e, StudyContentDeleted x) =>
        Entry(e, StudyChangeKind.Deleted, x.StudyInstanceUid, x.DeletedBy, x.DeletedAt) with
        {
            Reason = x.Reason,
            Details = new()
            {
                ["deletionId"] = x.DeletionId.ToString(),
                ["project"] = x.Project,
                ["archive"] = x.Archive,
                ["restorableUntil"] = x.PurgeAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            },
        };

    private static StudyChangeKind PatientChangeKind(StudyPatientChangeReason reason) => reason switch
    {
        StudyPatientChangeReason.PatientUpdated => StudyChangeKind.PatientUpdated,
        StudyPatientChangeReason.PatientMerged => StudyChangeKind.PatientMerged,
        StudyPatientChangeReason.StudyMoved => StudyChangeKind.StudyMoved,
        StudyPatientChangeReason.ReceivedForMergedPatient => StudyChangeKind.FiledUnderSurvivingPatient,
        _ => StudyChangeKind.CorrectionUndone,
    };

    private static Dictionary<string, string> PatientChange(StudyPatientAssigned x)
    {
        var details = new Dictionary<string, string>();
        if (x.Previous?.PatientId is { } from)
        {
            details["fromPatientId"] = from;
        }

        if (x.Patient?.PatientId is { } to)
        {
            details["toPatientId"] = to;
        }

        if (x.CorrectionId is { } correction)
        {
            details["correctionId"] = correction.ToString();
        }

        return details;
    }

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
