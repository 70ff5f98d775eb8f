using JasperFx.Events.Projections;
using Marten;

namespace EventSourced.Projections.StudyFeed;

/// <param name="Entries">Oldest first; never an event's entries split across two pages.</param>
/// <param name="SettledThrough">Every event up to this sequence number is in the feed (or is not a study change):
/// the daemon's progress for the feed projection when the page was read.</param>
/// <param name="HasMore">Entries after the page's last one were already settled when it was read.</param>
public sealed record StudyFeedPage(IReadOnlyList<StudyFeedEntry> Entries, long SettledThrough, bool HasMore);

/// <param name="Page">The change feed's entries asked for, oldest first.</param>
/// <param name="History">Every change-feed entry of the page's instances, oldest first (the page's own among them).</param>
public sealed record ChangeFeedRead(IReadOnlyList<StudyFeedEntry> Page, IReadOnlyList<StudyFeedEntry> History);

/// <summary>
/// Reads the feed of the session's tenant: only what the daemon has settled, so an offset once passed never
/// gains an entry. A read is two queries: the entries' rows (<see cref="StudyFeedRow"/>), then their events
/// (one indexed read by sequence number), from which the entries are mapped again.
/// </summary>
public static class StudyFeedReader
{
    public static readonly ShardName Shard = new(StudyFeedProjection.ProjectionName, "All", 1);

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
        var rows = await RowsAsync(session, "id > ? and id <= ? order by id limit ?", cancellation,
            StudyFeedRow.LastIdOf(after), StudyFeedRow.LastIdOf(settled), limit + 1);
        var hasMore = rows.Count > limit;
        var page = rows.Take(limit).ToList();
        if (hasMore && page.Count > 0 && rows[limit].Sequence == page[^1].Sequence)
        {
            var last = page[^1];
            page.AddRange(await RowsAsync(session, "id > ? and id <= ? order by id", cancellation, last.Id, StudyFeedRow.LastIdOf(last.Sequence)));
            hasMore = (await RowsAsync(session, "id > ? and id <= ? order by id limit 1", cancellation,
                StudyFeedRow.LastIdOf(last.Sequence), StudyFeedRow.LastIdOf(settled))).Count > 0;
        }

        return new StudyFeedPage(await EntriesAsync(session, page, cancellation), settled, hasMore);
    }

    /// <summary>
    /// The DICOMweb change feed's entries (those with a <see cref="StudyFeedEntry.ChangeFeedAction"/>) up to
    /// <paramref name="settled"/>, in the window [<paramref name="from"/>, <paramref name="to"/>), oldest first,
    /// <paramref name="skip"/> of them skipped; with their instances' histories.
    /// </summary>
    public static async Task<ChangeFeedRead> ChangesAsync(
        IQuerySession session, long settled, DateTimeOffset? from, DateTimeOffset? to, int skip, int limit, CancellationToken cancellation)
    {
        var where = "change_feed_action is not null and id <= ?";
        List<object> parameters = [StudyFeedRow.LastIdOf(settled)];
        if (from is { } start)
        {
            where += " and occurred_at >= ?";
            parameters.Add(start);
        }

        if (to is { } end)
        {
            where += " and occurred_at < ?";
            parameters.Add(end);
        }

        parameters.AddRange([skip, limit]);
        return await WithHistoryAsync(session, settled, await RowsAsync(session, $"{where} order by id offset ? limit ?", cancellation, [.. parameters]), cancellation);
    }

    /// <summary>The change feed's last entry up to <paramref name="settled"/> (none when it is empty), with its instance's history.</summary>
    public static async Task<ChangeFeedRead> LatestChangeAsync(IQuerySession session, long settled, CancellationToken cancellation) =>
        await WithHistoryAsync(session, settled,
            await RowsAsync(session, "change_feed_action is not null and id <= ? order by id desc limit 1", cancellation, StudyFeedRow.LastIdOf(settled)), cancellation);

    /// <summary>
    /// The change feed's <paramref name="page"/> and every change-feed entry up to <paramref name="settled"/> of
    /// its instances (same study and SOP Instance UID), oldest first: what tells an entry's state. One query
    /// for the histories' rows, one for all the events.
    /// </summary>
    private static async Task<ChangeFeedRead> WithHistoryAsync(IQuerySession session, long settled, List<RowKey> page, CancellationToken cancellation)
    {
        var sops = page.Select(x => x.SopInstanceUid).OfType<string>().Distinct().ToArray();
        var history = sops.Length == 0 ? [] : await RowsAsync(session,
            "change_feed_action is not null and id <= ? and study_instance_uid = any(?) and sop_instance_uid = any(?) order by id", cancellation,
            StudyFeedRow.LastIdOf(settled), page.Select(x => x.StudyInstanceUid).Distinct().ToArray(), sops);
        var entries = (await EntriesAsync(session, [.. page.Concat(history).DistinctBy(x => x.Id)], cancellation)).ToDictionary(x => x.Id);
        return new ChangeFeedRead([.. page.Select(x => entries[x.EntryId])], [.. history.Select(x => entries[x.EntryId])]);
    }

    /// <summary>Every entry of <paramref name="studies"/> up to <paramref name="settled"/>, oldest first.</summary>
    public static async Task<IReadOnlyList<StudyFeedEntry>> ForStudiesAsync(
        IQuerySession session, long settled, IReadOnlyList<string> studies, CancellationToken cancellation) =>
        await EntriesAsync(session, await RowsAsync(session, "study_instance_uid = any(?) and id <= ? order by id", cancellation,
            studies.ToArray(), StudyFeedRow.LastIdOf(settled)), cancellation);

    /// <summary>One entry's row as read back: its id, the study it is filed under, its instance.</summary>
    internal sealed record RowKey(long Id, string StudyInstanceUid, string? SopInstanceUid)
    {
        public long Sequence => StudyFeedRow.SequenceOf(Id);

        /// <summary>The entry's <see cref="StudyFeedEntry.Id"/>.</summary>
        public string EntryId => $"{Sequence}:{StudyFeedRow.IndexOf(Id)}";
    }

    /// <summary>
    /// The rows of the session's tenant matching <paramref name="condition"/> (positional <c>?</c> parameters; its order is
    /// by id, and the rows come back oldest first). The page is cut on the columns, then only its rows are turned into
    /// JSON: a deep <c>offset</c> skips rows without building each one's object (docs/benchmarks.md, "Queries that grew
    /// with the archive").
    /// </summary>
    private static async Task<List<RowKey>> RowsAsync(IQuerySession session, string condition, CancellationToken cancellation, params object[] parameters)
    {
        var table = $"\"{session.DocumentStore.Options.DatabaseSchemaName}\".mt_doc_studyfeedrow";
        var rows = await session.AdvancedSql.QueryAsync<RowKey>(
            "select jsonb_build_object('Id', p.id, 'StudyInstanceUid', p.study_instance_uid, 'SopInstanceUid', p.sop_instance_uid) " +
            $"from (select id, study_instance_uid, sop_instance_uid from {table} where tenant_id = ? and {condition}) as p order by p.id",
            cancellation, [session.TenantId, .. parameters]);
        return [.. rows];
    }

    /// <summary>
    /// The entries of <paramref name="rows"/>, in their order, mapped again from their events (one query for
    /// all of them) as the log holds them now: an erasure's masking shows in every entry written before it.
    /// </summary>
    private static async Task<IReadOnlyList<StudyFeedEntry>> EntriesAsync(IQuerySession session, IReadOnlyList<RowKey> rows, CancellationToken cancellation)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var sequences = rows.Select(x => x.Sequence).Distinct().ToArray();
        var events = (await session.Events.QueryAllRawEvents().Where(x => x.Sequence.IsOneOf(sequences)).ToListAsync(cancellation))
            .ToDictionary(x => x.Sequence);
        var mapped = new Dictionary<long, IReadOnlyList<StudyFeedEntry>>();
        return [.. rows.Select(row =>
        {
            if (!mapped.TryGetValue(row.Sequence, out var entries))
            {
                var e = events.GetValueOrDefault(row.Sequence)
                    ?? throw new InvalidOperationException($"The study feed has an entry for event {row.Sequence}, which is not in the log.");

                // The row's study is the one the projection looked up for events that do not carry it.
                entries = [.. StudyFeedMapping.Numbered(StudyFeedMapping.Map(e, row.StudyInstanceUid)).Select(x => x with { Details = InStoredOrder(x.Details) })];
                mapped[row.Sequence] = entries;
            }

            return entries[StudyFeedRow.IndexOf(row.Id)];
        })];
    }

    /// <summary>
    /// Details in the order the stored entries gave them (jsonb keeps an object's keys shortest first, then
    /// by their bytes), so a response keeps the member order it had when the whole entry was stored.
    /// </summary>
    private static Dictionary<string, string> InStoredOrder(Dictionary<string, string> details) =>
        details.Count < 2 ? details : new(details.OrderBy(d => System.Text.Encoding.UTF8.GetByteCount(d.Key)).ThenBy(d => d.Key, StringComparer.Ordinal));

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
