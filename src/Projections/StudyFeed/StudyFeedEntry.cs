using System.Text.Json;
using EventSourced.Domain.Common;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;

namespace EventSourced.Projections.StudyFeed;

/// <summary>
/// What happened to a study, as its consumers see it. One name per kind of change; the DICOMweb change
/// feed maps each onto its create/update/delete (<see cref="StudyChangeKinds.ChangeFeedAction"/>).
/// </summary>
public enum StudyChangeKind
{
    /// <summary>An instance was received (any channel: STOW-RS, /exams, archive upload, presigned PUT).</summary>
    InstanceStored,

    /// <summary>Different bytes for a stored SOP Instance UID within the replace window: the instance was updated.</summary>
    InstanceReplaced,


    OrderCreated,
    OrderFailed,
    OrderDeleted,
    ProcedureStepStarted,
    ProcedureStepCompleted,
    ProcedureStepCanceled,

    /// <summary>A report for an order of the study was delivered (or amended).</summary>
    ReportDelivered,

    /// <summary>An order of the study joined a study group.</summary>
    OrderAddedToStudyGroup,

    /// <summary><c>patients/update</c>: the study's patient demographics changed.</summary>
    PatientUpdated,

    /// <summary><c>patients/merge</c>: the study's patient was merged into another.</summary>
    PatientMerged,

    /// <summary><c>studies/move</c>: the study was moved to another patient.</summary>
    StudyMoved,

    /// <summary>The study arrived for a patient already merged into another and was filed under the survivor.</summary>
    FiledUnderSurvivingPatient,

    /// <summary>A merge or move of the study was undone (our own route).</summary>
    CorrectionUndone,

    /// <summary>A deprecation of the study or of one of its series began (pending).</summary>
    DeprecationStarted,

    /// <summary>A deprecation completed: one entry per instance that left every read path.</summary>
    InstanceDeprecated,

    /// <summary>A deprecation or a delete was undone (our own routes): one entry per instance that came back.</summary>
    InstanceRestored,

    /// <summary>The patient's data were erased: the instance's bytes were rewritten without them (an update of the instance).</summary>
    InstanceErased,

    /// <summary><c>studies/reconcile</c>: series joined the study, which now has images available (one entry for the study).</summary>
    Reconciled,

    /// <summary><c>studies/swap</c>: series joined the study in exchange for its own (one entry for the study).</summary>
    Swapped,

    /// <summary>One instance whose series joined the study (reconcile, swap, or their undo).</summary>
    InstanceRefiledIn,

    /// <summary>One instance whose series left the study for another.</summary>
    InstanceRefiledOut,

    /// <summary>A series (or a container's slides) was queued to be sent to a configured destination (document e's series/forward).</summary>
    ForwardRequested,

    /// <summary>A forward's attempt delivered the series to its destination.</summary>
    SeriesForwarded,

    /// <summary>A forward's attempt failed (retried later, or dead-lettered after the last attempt).</summary>
    ForwardFailed,

    /// <summary>An operator sent a dead-lettered forward again.</summary>
    ForwardRetried,

    /// <summary><c>studies/relocation</c>: the study's blobs moved to another physical medium or bucket.</summary>
    Relocated,

    /// <summary>
    /// Document e's <c>studies/createKos</c>: a Key Object Selection Document referencing the study's visible
    /// instances was stored in it (the KOS instance itself also has its <see cref="InstanceStored"/> entry).
    /// </summary>
    KosStored,

    /// <summary>
    /// Document d's delete: one entry per instance that left every read path, or one study-level entry
    /// (no SOP Instance UID) when the content only left that Project/Archive.
    /// </summary>
    Deleted,
}

public static class StudyChangeKinds
{
    /// <summary>
    /// The DICOMweb change feed's action for an instance-level change (<c>create</c>, <c>update</c>,
    /// <c>delete</c>); null: the change is not one of an instance and stays out of that feed.
    /// </summary>
    public static string? ChangeFeedAction(StudyChangeKind kind, string? sopInstanceUid) => sopInstanceUid is null ? null : kind switch
    {
        StudyChangeKind.InstanceStored => "create",
        StudyChangeKind.InstanceReplaced => "update",
        StudyChangeKind.InstanceErased => "update",
        StudyChangeKind.InstanceDeprecated => "delete",
        StudyChangeKind.Deleted => "delete",
        StudyChangeKind.InstanceRestored => "create",
        StudyChangeKind.InstanceRefiledIn => "create",
        StudyChangeKind.InstanceRefiledOut => "delete",
        _ => null,
    };
}

/// <summary>
/// One change of one study, derived from one event (<see cref="StudyFeedMapping"/>). An event that
/// concerns several studies gives several entries with the same <see cref="Sequence"/> and increasing
/// <see cref="Index"/>. Id: <c>{Sequence}:{Index}</c>. Not stored: the database keeps a
/// <see cref="StudyFeedRow"/> per entry, and a reader maps the entry again from its event
/// (<see cref="StudyFeedReader"/>), as the log holds it now.
/// </summary>
public sealed record StudyFeedEntry
{
    public string Id { get; init; } = "";

    /// <summary>The event's global sequence number: the feed's offset id.</summary>
    public long Sequence { get; init; }

    public int Index { get; init; }

    public StudyChangeKind Kind { get; init; }

    /// <summary>The stored event's type alias (e.g. <c>instance_stored</c>).</summary>
    public string EventType { get; init; } = "";

    public Guid StreamId { get; init; }

    public long StreamVersion { get; init; }

    public string StudyInstanceUid { get; init; } = "";

    public string? SeriesInstanceUid { get; init; }

    public string? SopInstanceUid { get; init; }

    public string? SopClassUid { get; init; }

    /// <summary>When it happened: the event's business timestamp (never the projection's clock).</summary>
    public DateTimeOffset OccurredAt { get; init; }

    public string Subject { get; init; } = "";

    /// <summary>The API dialect or component the change came through (the event's <c>Actor.Via</c>).</summary>
    public string Via { get; init; } = "";

    /// <summary>How instances reached us (STOW-RS, exams upload, archive upload, presigned PUT); null for other changes.</summary>
    public string? Channel { get; init; }

    public Guid? OrderId { get; init; }

    /// <summary>The DICOMweb change feed's action (<c>create</c>, <c>update</c>, <c>delete</c>); null: not in that feed.</summary>
    public string? ChangeFeedAction { get; init; }

    public string? Reason { get; init; }

    /// <summary>Kind-specific values (report type and id, project and archive, previous hash, …).</summary>
    public Dictionary<string, string> Details { get; init; } = [];

    /// <summary>
    /// The instance's DICOM JSON header (instance-level kinds only): the change feed's metadata, as the
    /// entry's event holds it now (masked by any erasure since); parsed only when read (the daemon never reads it).
    /// </summary>
    public InstanceHeader? Metadata { get; init; }

    /// <summary>The request's correlation id, when the write recorded one.</summary>
    public string? CorrelationId { get; init; }
}

/// <summary>
/// The study feed, projected ASYNCHRONOUSLY on purpose: the daemon only hands it events below its
/// high-water mark, the point below which every transaction has committed or is known to have rolled
/// back. A naive "events after sequence N" read would lose an event whose transaction took its sequence
/// number early and committed late; here such an event is projected before anything after it, so the
/// feed only ever grows at its end (docs/architecture.md, "The study feed").
/// </summary>
public sealed partial class StudyFeedProjection : EventProjection
{
    public const string ProjectionName = "StudyFeed";

    public StudyFeedProjection()
    {
        Name = ProjectionName;

        // Declared, so a rebuild (and the rebuild-equals-live check) knows the table it writes.
        RegisterPublishedType(typeof(StudyFeedRow));
    }

    public override async ValueTask ApplyAsync(IDocumentOperations operations, IEvent e, CancellationToken cancellation)
    {
        string? studyOfStream = null;
        if (StudyFeedMapping.StreamWhoseStudyIsNeeded(e.Data) is { } streamId)
        {
            // The stream's first event is in the log for good (erasure masks patient data, never the study UID).
            var first = await operations.Events.FetchStreamAsync(streamId, 1, token: cancellation);
            studyOfStream = first.Select(x => StudyFeedMapping.StudyOfFirstEvent(x.Data)).FirstOrDefault(uid => uid is not null);
        }

        // Only the row of each entry: the rest is read from the event when the feed is served, as the log holds
        // it then, so an erasure's masking shows without rewriting the entries written before it.
        var tenant = operations.ForTenant(e.TenantId);
        foreach (var entry in StudyFeedMapping.Numbered(StudyFeedMapping.Map(e, studyOfStream)))
        {
            tenant.Store(StudyFeedRow.For(entry));
        }
    }
}
