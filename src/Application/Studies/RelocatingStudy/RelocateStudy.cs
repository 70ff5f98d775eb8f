using EventSourced.Application.Blobs;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Application.Studies.RelocatingStudy;

/// <summary>Move a study's blobs to another configured location (document e, "Study relocation API").</summary>
public sealed record RelocateStudy(string StudyInstanceUid, StorageLocation To, string Author, Actor By);

/// <param name="Copied">Blobs copied and verified at the target.</param>
/// <param name="Removed">Copies removed from the former location (bytes another study there still names stay).</param>
public sealed record RelocationOutcome(RelocationRefusal? Refused, StorageLocation? From, int Copied, int Removed);

/// <summary>
/// Synchronous, in three steps, each leaving one complete copy: (1) copy every blob the study's events
/// name to the target and read each copy back to check its SHA-256; (2) append <see cref="StudyRelocated"/>
/// (the switch: from here on new instances go to the target); (3) remove the copies at the former location
/// that no other study there names. A crash in (1) leaves the study at its former location, whole; a crash
/// in (3) leaves it at the target, whole, with leftovers at the former location that the next relocation
/// request for the study (to the same target) removes. The stream is held exclusively (a row lock) from
/// the start to the switch, so no instance of the study is recorded while its blobs are being copied.
/// </summary>
public static class RelocateStudyHandler
{
    public static async Task<RelocationOutcome> Handle(
        RelocateStudy command, IDocumentSession session, IBlobStore anywhere, IBlobLocations locations,
        IStudyPlacement placement, IRelocationCheckpoints checkpoints, TimeProvider clock, CancellationToken cancellation)
    {
        var streamId = Study.StreamId(session.TenantId, command.StudyInstanceUid);
        var stream = await session.Events.FetchForExclusiveWriting<Study>(streamId, cancellation);
        var current = stream.Aggregate?.Location ?? locations.Local;
        var decision = StudyRelocations.Decide(stream.Aggregate, current, command.To);
        if (decision.Refused is { } refused)
        {
            return new(refused, current, 0, 0);
        }

        var events = (await session.Events.FetchStreamAsync(streamId, token: cancellation)).Select(e => e.Data).ToList();
        var blobs = StudyRelocations.BlobsOf(events);
        if (decision.AlreadyThere)
        {
            // Nothing to move; a relocation a crash interrupted after its switch is finished here.
            var last = events.OfType<StudyRelocated>().LastOrDefault();
            var cleaned = last is null ? 0 : await RemoveFormerCopiesAsync(session, locations, placement, checkpoints, streamId, last.From, current, blobs, clock, cancellation);
            return new(null, current, 0, cleaned);
        }

        var target = locations.StoreAt(command.To) ?? throw new InvalidOperationException($"{command.To} is not configured.");
        var copied = 0;
        foreach (var sha in blobs)
        {
            // Read from wherever the bytes are (the former location, normally): a blob that is nowhere
            // (an erased instance) has nothing to carry.
            if (await BlobCopy.CopyVerifiedAsync(anywhere, target, sha, cancellation) && ++copied == 1)
            {
                checkpoints.Reached("copied-one", command.To);
            }
        }

        checkpoints.Reached("copied", command.To);
        stream.AppendOne(new StudyRelocated(streamId, command.StudyInstanceUid, current, command.To, copied, command.Author, command.By, clock.GetUtcNow()));
        await session.SaveChangesAsync(cancellation);
        checkpoints.Reached("switched", command.To);

        var removed = await RemoveFormerCopiesAsync(session, locations, placement, checkpoints, streamId, current, command.To, blobs, clock, cancellation);
        return new(null, current, copied, removed);
    }

    private static async Task<int> RemoveFormerCopiesAsync(
        IDocumentSession session, IBlobLocations locations, IStudyPlacement placement, IRelocationCheckpoints checkpoints, Guid streamId,
        StorageLocation former, StorageLocation target, IReadOnlyList<string> blobs, TimeProvider clock, CancellationToken cancellation)
    {
        if (locations.StoreAt(former) is not { } store || blobs.Count == 0)
        {
            return 0;
        }

        // Taken before the shared-bytes check: a commit of the same bytes by another request after it
        // refreshes the blob, and the conditional removal below leaves it.
        var startedAt = clock.GetUtcNow();
        var shared = await SharedAtAsync(session, locations, placement, streamId, former, blobs, cancellation);
        var removed = 0;
        foreach (var sha in blobs.Where(sha => !shared.Contains(sha)))
        {
            if (store.DeleteIfNotModifiedSince(sha, startedAt) && ++removed == 1)
            {
                checkpoints.Reached("removed-one", target);
            }
        }

        return removed;
    }

    /// <summary>
    /// The blobs among <paramref name="blobs"/> that an event of another stream names, where that stream
    /// lives at <paramref name="location"/> (a stream with no placement row lives on the local medium:
    /// studies never relocated, and reports and results, which stay there). Content addressing: two
    /// studies with identical bytes share one blob.
    /// </summary>
    private static async Task<HashSet<string>> SharedAtAsync(
        IDocumentSession session, IBlobLocations locations, IStudyPlacement placement, Guid self, StorageLocation location, IReadOnlyList<string> blobs, CancellationToken cancellation)
    {
        var rows = await session.AdvancedSql.QueryAsync<string>(
            SharedSql($"\"{session.DocumentStore.Options.Events.DatabaseSchemaName}\".mt_events"), cancellation, blobs.ToArray(), self);
        var named = rows.Select(row => row.Split(' ')).Select(parts => (Sha: parts[0], Stream: Guid.Parse(parts[1]))).ToList();
        if (named.Count == 0)
        {
            return [];
        }

        var streams = named.Select(n => n.Stream).Distinct().ToArray();
        var placed = await placement.RelocatedAsync(streams, cancellation);
        return named
            .Where(n => (placed.TryGetValue(n.Stream, out var at) ? at : locations.Local) == location)
            .Select(n => n.Sha)
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// <see cref="SharedAtAsync"/>'s statement over the event table <paramref name="events"/> (positional parameters: the
    /// hashes, the study's own stream): each hash with every other stream that names it (<see cref="EventBlobNames"/>,
    /// through its index).
    /// </summary>
    public static string SharedSql(string events) =>
        $"select distinct s || ' ' || e.stream_id::text from unnest(?) as s join {events} e on {EventBlobNames.Names("e", "s")} where e.stream_id <> ?";
}
