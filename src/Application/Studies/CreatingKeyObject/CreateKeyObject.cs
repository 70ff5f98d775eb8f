using EventSourced.Application.Ingestion;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Application.Studies.KeyObjects;
using EventSourced.Dicom;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten;
using Microsoft.Extensions.Options;

namespace EventSourced.Application.Studies.CreatingKeyObject;

/// <summary>Build the study's manifest KOS (every visible instance) and store it in the study as a new instance.</summary>
public sealed record CreateKeyObject(string StudyInstanceUid, string? CallingAeTitle, Actor By);

/// <summary>The stored KOS's SOP Instance UID, or null when the study has no visible instance (unknown, or all deprecated).</summary>
public sealed record KeyObjectCreation(string? SopInstanceUid);

public static class CreateKeyObjectHandler
{
    /// <remarks>
    /// The study's stream row is locked while the KOS is built and stored, so the references are exactly
    /// the instances visible when it is appended. The blob is committed first (a failure after it leaves
    /// an unreferenced blob for the sweeper, never an event without its bytes); the InstanceStored and the
    /// KeyObjectSelectionCreated are appended in one transaction.
    /// </remarks>
    public static async Task<KeyObjectCreation> Handle(
        CreateKeyObject command,
        IDocumentSession session,
        InstanceReceiver receiver,
        IOptions<IngestionOptions> options,
        TimeProvider clock,
        CancellationToken cancellation)
    {
        var streamId = Study.StreamId(session.TenantId, command.StudyInstanceUid);
        var stream = await session.Events.FetchForExclusiveWriting<Study>(streamId, cancellation);
        if (stream.Aggregate is not { } study)
        {
            return new KeyObjectCreation(null);
        }

        var now = clock.GetUtcNow();
        var history = await StudyHistory.LoadAsync(session, streamId, cancellation);
        var request = StudyManifest.For(study, history, DicomUid.Generate(), DicomUid.Generate(), now);
        if (request is null)
        {
            return new KeyObjectCreation(null);
        }

        var bytes = KeyObjectSelection.Build(request);
        var (kos, failure) = await receiver.ReceiveAsync(new MemoryStream(bytes), study.StudyInstanceUid, IngestChannel.Generated, command.CallingAeTitle, cancellation);
        if (kos is null)
        {
            throw new InvalidOperationException($"The KOS of study {study.StudyInstanceUid} was refused: {failure?.Detail}");
        }

        var store = StudyDecisions.Store(study, study.Id, kos, options.Value.ReplaceWindow, command.By, now);
        if (store.Event is not InstanceStored stored)
        {
            throw new InvalidOperationException($"The KOS of study {study.StudyInstanceUid} was not stored: {store.Outcome}");
        }

        stream.AppendOne(stored);
        stream.AppendOne(new KeyObjectSelectionCreated(
            study.Id, study.StudyInstanceUid, request.SeriesInstanceUid, request.SopInstanceUid, request.Title.CodeValue,
            request.References.Count, command.CallingAeTitle, command.By, now));
        return new KeyObjectCreation(request.SopInstanceUid);
    }
}
