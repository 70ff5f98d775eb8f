using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Domain.Reports;

// Reports delivered by the producing side (the AI pipeline or reporting system) and acknowledged by the
// ordering side's batch poll (document a). A report of one type for one order (or one study group) is
// versioned: a later delivery of the same type amends it; every version stays in the stream and its
// blob stays in the blob store, the newest is served. Past tense, subject first; stream id, actor, …At.

/// <summary>How a report's content is encoded, decided from its media type and, for DICOM, its SOP class.</summary>
public enum ReportFormat
{
    Json,
    Pdf,

    /// <summary>A DICOM Structured Report instance (PS3.3 A.35, SOP classes 1.2.840.10008.5.1.4.1.1.88.x).</summary>
    DicomStructuredReport,

    /// <summary>A DICOM Encapsulated PDF instance (PS3.3 A.45.1, SOP class 1.2.840.10008.5.1.4.1.1.104.1).</summary>
    DicomEncapsulatedPdf,
}

/// <summary>
/// A report's stored content: the blob (content-addressed, durable before the event), the media type it
/// is served with, and for DICOM content the instance's identity.
/// </summary>
public sealed record ReportContent(
    BlobRef Blob,
    string MediaType,
    ReportFormat Format,
    string? SopClassUid,
    string? SopInstanceUid);

/// <param name="ReportId">This delivery's id (a version 7 Guid): what the batch poll lists and an acknowledgement names.</param>
/// <param name="Version">1 for the first delivery of this type for the order, n for its (n-1)th amendment.</param>
/// <param name="Amends">The delivery this one replaces as the served version, when there was one.</param>
public sealed record ReportDelivered(
    Guid OrderId,
    Guid ReportId,
    string StudyInstanceUid,
    string ReportType,
    int Version,
    Guid? Amends,
    ReportContent Content,
    Actor DeliveredBy,
    DateTimeOffset DeliveredAt);

/// <summary>One acknowledged delivery; the type travels with the id so read models keyed by (order, type) need no lookup.</summary>
public sealed record AcknowledgedReport(Guid ReportId, string ReportType);

/// <summary>The ordering side confirmed it retrieved these deliveries of the order (document a, <c>POST /reports</c>).</summary>
public sealed record ReportsAcknowledged(
    Guid OrderId,
    IReadOnlyList<AcknowledgedReport> Reports,
    Actor AcknowledgedBy,
    DateTimeOffset AcknowledgedAt);

/// <summary>An order joined a study group (a named group of orders/studies that receives group reports).</summary>
public sealed record OrderAddedToStudyGroup(
    Guid StudyGroupId,
    string StudyGroup,
    Guid OrderId,
    string StudyInstanceUid,
    Actor AddedBy,
    DateTimeOffset AddedAt);

/// <summary>A report for a whole study group (document a, <c>GET /report?study_group=</c>); versioned like an order's.</summary>
public sealed record StudyGroupReportDelivered(
    Guid StudyGroupId,
    string StudyGroup,
    Guid ReportId,
    string ReportType,
    int Version,
    Guid? Amends,
    ReportContent Content,
    Actor DeliveredBy,
    DateTimeOffset DeliveredAt);

public sealed record StudyGroupReportsAcknowledged(
    Guid StudyGroupId,
    string StudyGroup,
    IReadOnlyList<AcknowledgedReport> Reports,
    Actor AcknowledgedBy,
    DateTimeOffset AcknowledgedAt);

/// <summary>
/// The order's patient was erased: the contents of these deliveries (their blobs) were deleted, because a
/// report's text may name the patient and cannot be de-identified reliably. The deliveries stay in the log.
/// </summary>
public sealed record ReportContentErased(Guid OrderId, IReadOnlyList<Guid> ReportIds, IReadOnlyList<string> ReportTypes, Guid ErasureId, Actor ErasedBy, DateTimeOffset ErasedAt);
