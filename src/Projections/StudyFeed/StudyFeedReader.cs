using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.StudyFeed;

/// <param name="Entries">Oldest first; never an event's entries split across two pages.</param>
/// <param name="SettledThrough">Every event up to this sequence number is in the feed (or is not a study change):
/// the daemon's progress for the feed projection when the page was read.</param>
/// <param name="HasMore">Entries after the page's last one were already settled when it was read.</param>
public sealed record StudyFeedPage(IReadOnlyList<StudyFeedEntry> Entries, long SettledThrough, bool HasMore);

/// <summary>Reads the feed of the session's tenant: only what the daemon has settled, so an offset once passed never gains an entry.</summary>
public static class StudyFeedReader
{
    public static readonly ShardName Shard = new(StudyFeedProjection.ProjectionName, "All", 1);

    /// <summary>
    /// The entries with their <see cref="StudyFeedEntry.Metadata"/>: the header is not stored with an entry
    /// but read back from its event (one query for all of them), as the log holds it now, so an erasure's
    /// masking shows without rewriting the feed.
    /// </summary>
    public static async Task<IReadOnlyList<StudyFeedEntry>> WithMetadataAsync(
        IQuerySession session, IReadOnlyList<StudyFeedEntry> entries, CancellationToken cancellation)
    {
        var sequences = entries.Where(x => x.SopInstanceUid is not null).Select(x => x.Sequence).Distinct().ToArray();
        if (sequences.Length == 0)
        {
            return entries;
        }

        var events = await session.Events.QueryAllRawEvents().Where(x => x.Sequence.IsOneOf(sequences)).ToListAsync(cancellation);
        var headers = events
            .SelectMany(e => StudyFeedMapping.Numbered(StudyFeedMapping.Map(e)))
            .Where(x => x.Metadata is not null)
            .ToDictionary(x => x.Id, x => x.Metadata);
        return [.. entries.Select(x => headers.TryGetValue(x.Id, out var header) ? x with { Metadata = header } : x)];
    }

    /// <summary>The sequence number below which every event has been projected into the feed.</summary>
    public static async Task<long> SettledThroughAsync(IDocumentStore store, CancellationToken cancellation) =>
        await store.Advanced.ProjectionProgressFor(Shard, token: cancellation);

    /// <summary>
    /// Entries with a sequence number above <paramref name="after"/> and at most <paramref name="settled"/>,
    /// at most <paramref name="limit"/> of them, except that the last event's entries are never split.
    /// The progress is read before the entries: the daemon commits an event's entries together with its
    /// progress, so every entry up to <paramref name="settled"/> is visible to this later read.
    /// </summary>
    public static async Task<StudyFeedPage> ReadAsync(IQuerySession session, long settled, long after, int limit, CancellationToken cancellation)
    {
        var rows = await session.Query<StudyFeedEntry>()
            .Where(x => x.Sequence > after && x.Sequence <= settled)
            .OrderBy(x => x.Sequence).ThenBy(x => x.Index)
            .Take(limit + 1)
            .ToListAsync(cancellation);

        var hasMore = rows.Count > limit;
        var page = rows.Take(limit).ToList();
        if (hasMore && page.Count > 0 && rows[limit].Sequence == page[^1].Sequence)
        {
            var last = page[^1];
            var rest = await session.Query<StudyFeedEntry>()
                .Where(x => x.Sequence == last.Sequence && x.Index > last.Index)
                .OrderBy(x => x.Index)
                .ToListAsync(cancellation);
            page.AddRange(rest);
            hasMore = await session.Query<StudyFeedEntry>().AnyAsync(x => x.Sequence > last.Sequence && x.Sequence <= settled, cancellation);
        }

        return new StudyFeedPage(page, settled, hasMore);
    }

    /// <summary>
    /// Like <see cref="ReadAsync"/>, but when nothing is there yet, holds on until an entry arrives or
    /// <paramref name="wait"/> has passed. Woken by the daemon's commits (<see cref="StudyFeedSignal"/>);
    /// it also looks every <paramref name="recheck"/> in case the daemon runs on another node.
    /// </summary>
    public static async Task<StudyFeedPage> ReadOrWaitAsync(
        IDocumentStore store, IQuerySession session, StudyFeedSignal signal, long after, int limit, TimeSpan wait, TimeSpan recheck, CancellationToken cancellation)
    {
        var deadline = DateTimeOffset.UtcNow + wait;
        while (true)
        {
            // Take the signal's current task before reading, so a commit between the read and the wait still wakes us.
            var next = signal.NextAsync();
            var settled = await SettledThroughAsync(store, cancellation);
            var page = await ReadAsync(session, settled, after, limit, cancellation);
            var left = deadline - DateTimeOffset.UtcNow;
            if (page.Entries.Count > 0 || left <= TimeSpan.Zero)
            {
                return page;
            }

            try
            {
                await next.WaitAsync(left < recheck ? left : recheck, cancellation);
            }
            catch (TimeoutException)
            {
            }
        }
    }
}
