using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using EventSourced.Projections.Qido;
using Marten;
using Marten.Events.Projections;

namespace EventSourced.Projections.Pathology;

/// <summary>
/// The slide file kept for a pathology SM instance, for <c>wholeslide</c>. Found from the instance (its
/// QIDO record, which a deprecation removes) by <see cref="IdOf"/>: the study stream and SOP Instance UID
/// of the study that received the slide, which a series move (reconcile, swap, their undo) does not change:
/// <see cref="OfInstanceAsync"/> follows the move.
/// </summary>
public sealed record WholeSlideFile
{
    public Guid Id { get; init; }
    public string StudyInstanceUid { get; init; } = "";
    public string SopInstanceUid { get; init; } = "";
    public string ContainerIdentifier { get; init; } = "";
    public SlideFile File { get; init; } = null!;
    public DateTimeOffset StoredAt { get; init; }

    private static readonly Guid Namespace = new("6f1f7a43-52a3-4c57-a1a4-3e0d8f9b2c61");

    public static Guid IdOf(Guid studyStreamId, string sopInstanceUid) => DeterministicGuid.Create(Namespace, $"{studyStreamId:N}/{sopInstanceUid}");

    /// <summary>
    /// The slide file of a visible instance. A series move leaves the file where <see cref="SlideFileStored"/>
    /// recorded it, under the receiving study; the study now showing the instance names that study in
    /// <see cref="QidoStudy.RefiledFrom"/> (the StudyInstanceUID its bytes carry), so the file is found
    /// wherever the series went, and again where it came back to.
    /// </summary>
    public static async Task<WholeSlideFile?> OfInstanceAsync(IQuerySession session, QidoInstance instance, CancellationToken cancellation)
    {
        var received = (await session.LoadAsync<QidoStudy>(instance.StudyKey, cancellation))?.RefiledFrom.GetValueOrDefault(instance.SopInstanceUid);
        var studyStream = received is null ? instance.StudyKey : Study.StreamId(session.TenantId, received);
        return await session.LoadAsync<WholeSlideFile>(IdOf(studyStream, instance.SopInstanceUid), cancellation);
    }
}

/// <summary>Inline: the upload's answer is followed at once by a servable <c>wholeslide</c>. Deterministic (payload only).</summary>
public sealed partial class WholeSlideFileProjection : EventProjection
{
    public void Project(SlideFileStored e, IDocumentOperations ops) => ops.Store(new WholeSlideFile
    {
        Id = WholeSlideFile.IdOf(e.StudyStreamId, e.SopInstanceUid),
        StudyInstanceUid = e.StudyInstanceUid,
        SopInstanceUid = e.SopInstanceUid,
        ContainerIdentifier = e.ContainerIdentifier,
        File = e.File,
        StoredAt = e.StoredAt,
    });
}
