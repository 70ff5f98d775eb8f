using EventSourced.Application.Orders.RecordingImages;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten;
using Microsoft.Extensions.Options;

namespace EventSourced.Application.Ingestion.StoringInstances;

/// <summary>
/// Record instances of one study whose blobs are already durable (the caller committed them first: no
/// event ever points at a missing file). One command per study and request: one lock, one commit.
/// </summary>
public sealed record StoreInstances(IReadOnlyList<StoredInstance> Instances, Actor By)
{
    /// <summary>
    /// Document d's upload: also file each stored instance into this project's archive, in the same
    /// transaction, or refuse it. Null for the other channels: they file into the configured default
    /// archive (<see cref="IngestionOptions.DefaultPlacement"/>) where they can, and never refuse for it.
    /// </summary>
    public Domain.Archive.ArchivePlacement? Placement { get; init; }

    /// <summary>
    /// Document e's pathology storage: the slide file the instance of this SOP Instance UID describes,
    /// recorded (<see cref="SlideFileStored"/>) in the same transaction as the instance, or the instance
    /// is refused with it. Null for the other channels.
    /// </summary>
    public StoredSlide? Slide { get; init; }
}

/// <summary>The slide file (already a durable blob) that the SM instance <paramref name="SopInstanceUid"/> describes.</summary>
public sealed record StoredSlide(string SopInstanceUid, string ContainerIdentifier, SlideFile File);

public sealed record InstanceStoreResult(string SopInstanceUid, StoreOutcome Outcome, Rejection? Rejection);

public sealed record StoreInstancesResponse(string StudyInstanceUid, IReadOnlyList<InstanceStoreResult> Results);

public static class StoreInstancesHandler
{
    /// <remarks>
    /// Many instances of one study arrive in parallel (a modality sends a series on several
    /// associations, STOW clients upload in parallel). Optimistic concurrency would make them retry
    /// each other on every append; instead the study's stream row is locked for the short decide-and-
    /// append (<c>FetchForExclusiveWriting</c>), so writers of one study queue and none is refused.
    /// Two first writers of a new study race on creating the stream; the loser is retried by the
    /// Wolverine policy on <c>ExistingStreamIdCollisionException</c> and then finds it.
    /// </remarks>
    public static async Task<StoreInstancesResponse> Handle(
        StoreInstances command,
        IDocumentSession session,
        IOptions<IngestionOptions> options,
        StudyWriteCache cache,
        Patients.PatientWriteCache patients,
        OrderWriteCache orders,
        TimeProvider clock,
        CancellationToken cancellation)
    {
        var studyUid = command.Instances[0].StudyInstanceUid;
        if (command.Instances.Any(i => i.StudyInstanceUid != studyUid))
        {
            throw new ArgumentException("A StoreInstances command carries instances of one study.", nameof(command));
        }

        var streamId = Study.StreamId(session.TenantId, studyUid);
        var loaded = await StoreLoads.FetchAsync(session, cache, command, streamId, cancellation);
        var stream = loaded.Study;
        var study = stream.Aggregate;
        var now = clock.GetUtcNow();
        var results = new List<InstanceStoreResult>(command.Instances.Count);
        var placement = command.Placement ?? options.Value.DefaultPlacement;

        // New instances not yet appended: any other event of the stream is appended after them, so the order holds.
        var newInstances = new List<InstanceStored>(command.Instances.Count);
        void AppendNewInstances()
        {
            foreach (var e in InstancesStored.Batched(newInstances))
            {
                stream.Append(e);
            }

            newInstances.Clear();
        }
        foreach (var instance in command.Instances)
        {
            var decision = StudyDecisions.Store(study, streamId, instance, options.Value.ReplaceWindow, command.By, now);
            var after = After(study, decision.Event);
            var slide = command.Slide is { } s && s.SopInstanceUid == instance.SopInstanceUid && decision.Outcome != StoreOutcome.Rejected
                ? SlideDecisions.Store(after!, instance.SeriesInstanceUid, s.SopInstanceUid, s.ContainerIdentifier, s.File, instance.Channel, instance.CallingAeTitle, command.By, now)
                : default;
            if (slide.Rejection is { } conflicting)
            {
                // Not kept, so the instance is not stored either: the pathology upload answers 409 and leaves nothing.
                results.Add(new InstanceStoreResult(instance.SopInstanceUid, StoreOutcome.Rejected, conflicting));
                continue;
            }

            var filing = placement is not null && decision.Outcome != StoreOutcome.Rejected
                ? Domain.Archive.ArchiveDecisions.File(after!, placement, instance, command.By, now)
                : null;

            // Another channel's instance the default archive cannot take (no PatientID, or the study is filed
            // there under another patient) is stored all the same: it is only not visible through document d.
            if (filing?.Rejection is { } refused && command.Placement is not null)
            {
                // Not filed, so not stored either: document d's upload answers an error and leaves nothing.
                results.Add(new InstanceStoreResult(instance.SopInstanceUid, StoreOutcome.Rejected, refused));
                continue;
            }

            // A new instance's filing is carried by its InstanceStored, and the request's new instances go into one
            // event (InstancesStored.Batched): one event row for them, not one or two per instance.
            var filed = filing?.Event;
            if (decision.Event is InstanceStored stored && filed is not null && stored.Carrying(filed) is { } carrying)
            {
                newInstances.Add(carrying);
                study = After(study, carrying);
                filed = null;
            }
            else if (decision.Event is InstanceStored alone)
            {
                newInstances.Add(alone);
                study = after;
            }
            else if (decision.Event is { } appended)
            {
                AppendNewInstances();
                stream.Append(appended);
                study = after;
            }

            if (filed is not null)
            {
                AppendNewInstances();
                stream.Append(filed);
                study = study!.Apply(filed);
            }

            if (slide.Event is { } kept)
            {
                AppendNewInstances();
                stream.Append(kept);
                study = study!.Apply(kept);
            }

            results.Add(new InstanceStoreResult(instance.SopInstanceUid, decision.Outcome, decision.Rejection));
        }

        AppendNewInstances();

        // A new study is filed under its patient (registered when unknown; the survivor when merged).
        if (stream.Aggregate is null && study is not null)
        {
            study = await Patients.PatientStreams.FileNewStudyAsync(session, patients, stream.Append, study, command.By, now, cancellation);
        }

        // Every event appended to the study above was applied to `study`: it is the aggregate at the version this commit makes.
        if (study is not null)
        {
            stream.KeepAfterCommit(cache, study);
        }

        // Recorded in this transaction, with the events: the study's order moves on (Orders/RecordingImages).
        // Not cascaded: a durable message would cost every STOW a second transaction and an envelope row.
        if (InstancesArrivedForStudy.From(command, results, now) is { } arrived)
        {
            await InstancesArrivedForStudyHandler.RecordAsync(arrived, session, orders, cancellation, loaded.Register);
        }

        return new StoreInstancesResponse(studyUid, results);
    }

    /// <summary>The study once the decision's event (if any) is applied.</summary>
    private static Study? After(Study? study, object? stored) => stored switch
    {
        InstanceStored s => study is null ? Study.Create(s) : study.Apply(s),
        InstanceReplaced r => study!.Apply(r),
        _ => study,
    };
}
