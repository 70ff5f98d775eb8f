using System.Runtime.CompilerServices;
using JasperFx.Events;
using Marten;
using Marten.Services;
using Npgsql;

namespace EventSourced.Application.Common;

/// <summary>
/// Live aggregates of one type as this node's commands last committed them, each at the stream version and erasure
/// epoch it was folded at, so that the next command on the stream reads only what the log gained since (usually
/// nothing) instead of folding the whole stream again: a study sent one instance per request, or a patient filed a
/// new study, no longer costs in proportion to what the stream already holds (docs/architecture.md, "STOW: the study
/// aggregate kept between stores").
/// </summary>
/// <remarks>
/// <para>An entry is a baseline, never trusted blindly (<see cref="LockAsync"/>): the stream's row is locked and its
/// version read, as a fetch for exclusive writing does; an entry at that version is the aggregate; one behind it is
/// brought forward with the events after it (written by another node, or by another command of this one); anything
/// else, and any entry whose erasure epoch is not the database's, is folded from the log again.</para>
/// <para>The erasure epoch (<see cref="ErasureEpoch"/>) covers the one change of the log that adds no event: a
/// patient's erasure masks the events in place.</para>
/// <para>An entry is written only after its command's commit (<see cref="AfterCommitAsync"/>), at the version that
/// commit produced: a rolled-back command leaves the entry it started from, which the next command then finds behind
/// or matching, as the log says. Bounded by <paramref name="limit"/> in the unit of <paramref name="size"/>; least
/// recently used first out.</para>
/// </remarks>
public abstract class AggregateWriteCache<T>(Func<int> limit, Func<T, int> size) : DocumentSessionListenerBase
    where T : class
{
    /// <summary>An aggregate as folded at <paramref name="Version"/> of its stream, in erasure epoch <paramref name="Epoch"/>.</summary>
    public sealed record Entry(T Aggregate, long Version, long Epoch);

    private readonly record struct Key(string Tenant, Guid Stream);

    private sealed class Pending
    {
        public Dictionary<Key, Entry> Entries { get; } = [];
    }

    private readonly Lock _gate = new();
    private readonly Dictionary<Key, LinkedListNode<(Key Key, Entry Entry)>> _slots = [];
    private readonly LinkedList<(Key Key, Entry Entry)> _recency = new(); // most recently used first
    private readonly ConditionalWeakTable<IDocumentSession, Pending> _pending = new();
    private long _held;
    private long _epoch = -1;
    private long _hits;

    /// <summary>Commands that started from a kept aggregate (at the locked version, or brought forward to it).</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>
    /// The latest erasure epoch this node has read (-1 before its first): what an aggregate folded from the log is
    /// tagged with, read before the fold, so an erasure after it leaves the entry behind the database's epoch.
    /// </summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    public Entry? Find(string tenant, Guid stream)
    {
        lock (_gate)
        {
            if (!_slots.TryGetValue(new Key(tenant, stream), out var slot))
            {
                return null;
            }

            _recency.Remove(slot);
            _recency.AddFirst(slot);
            return slot.Value.Entry;
        }
    }

    /// <summary>
    /// The stream's row locked until commit, for a command that decides on its aggregate: the kept aggregate brought to
    /// the locked version (<c>Kept</c>), or null when there is none that describes the log; then the caller folds the
    /// stream (a fetch for exclusive writing: the lock is already held) and keeps what it leaves with <c>Epoch</c>.
    /// </summary>
    public async Task<(Entry? Kept, long Epoch)> LockAsync(IDocumentSession session, Guid stream, CancellationToken cancellation)
    {
        if (Epoch < 0)
        {
            // Once per process: what an aggregate folded from now on is tagged with (an entry of no known epoch is never used).
            Saw((await session.AdvancedSql.QueryAsync<long>(ErasureEpoch.Sql(session), cancellation)).Single());
        }

        var epoch = Epoch;
        if (Find(session.TenantId, stream) is not { } kept)
        {
            return (null, epoch);
        }

        await session.BeginTransactionAsync(cancellation);
        await using var command = new NpgsqlCommand(
            $"select s.version, ({ErasureEpoch.Sql(session)}) from {session.DocumentStore.Options.Events.DatabaseSchemaName}.mt_streams s " +
            "where s.id = $1 and s.tenant_id = $2 for update of s",
            session.Connection)
        {
            Parameters = { new() { Value = stream }, new() { Value = session.TenantId } },
        };
        (long Version, long Epoch)? locked;
        await using (var reader = await command.ExecuteReaderAsync(cancellation))
        {
            locked = await reader.ReadAsync(cancellation) ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
        }

        if (locked is { } row)
        {
            Saw(row.Epoch);
            epoch = row.Epoch;
            if (row.Epoch == kept.Epoch && row.Version >= kept.Version)
            {
                var aggregate = row.Version == kept.Version
                    ? kept.Aggregate
                    : await session.Events.AggregateStreamAsync(stream, state: kept.Aggregate, fromVersion: kept.Version + 1, token: cancellation);
                if (aggregate is not null)
                {
                    Interlocked.Increment(ref _hits);
                    return (new Entry(aggregate, row.Version, row.Epoch), epoch);
                }
            }
        }

        Forget(session.TenantId, stream);
        return (null, epoch);
    }

    /// <summary>
    /// The stream for a command that appends to it: <see cref="LockAsync"/>, and when nothing kept describes the log, the
    /// stream folded by Marten (<c>FetchForExclusiveWriting</c>, the row already locked).
    /// </summary>
    public async Task<StreamWrite<T>> FetchForWritingAsync(IDocumentSession session, Guid stream, CancellationToken cancellation)
    {
        var locked = await LockAsync(session, stream, cancellation);
        return StreamWrite<T>.From(
            session, stream, locked, locked.Kept is null ? await session.Events.FetchForExclusiveWriting<T>(stream, cancellation) : null);
    }

    /// <summary>Drops an entry found not to describe the log (another version, another epoch).</summary>
    private void Forget(string tenant, Guid stream)
    {
        lock (_gate)
        {
            if (_slots.Remove(new Key(tenant, stream), out var slot))
            {
                _recency.Remove(slot);
                _held -= size(slot.Value.Entry.Aggregate);
            }
        }
    }

    /// <summary>The aggregate <paramref name="session"/>'s command leaves the stream at, kept once (and if) the session commits.</summary>
    public void KeepAfterCommit(IDocumentSession session, Guid stream, Entry entry)
    {
        if (limit() <= 0 || size(entry.Aggregate) > limit())
        {
            return;
        }

        _pending.GetOrCreateValue(session).Entries[new Key(session.TenantId, stream)] = entry;
    }

    public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        if (_pending.TryGetValue(session, out var pending))
        {
            _pending.Remove(session);
            foreach (var (key, entry) in pending.Entries)
            {
                Keep(key, entry);
            }
        }

        return Task.CompletedTask;
    }

    private void Saw(long epoch)
    {
        var seen = Interlocked.Read(ref _epoch);
        while (epoch > seen && Interlocked.CompareExchange(ref _epoch, epoch, seen) is var was && was != seen)
        {
            seen = was;
        }
    }

    private void Keep(Key key, Entry entry)
    {
        var bound = limit();
        lock (_gate)
        {
            if (_slots.TryGetValue(key, out var slot))
            {
                // Two commits of one stream finish in lock order, but their listeners may run in either: the later version stays.
                var kept = slot.Value.Entry;
                if (kept.Version > entry.Version && kept.Epoch >= entry.Epoch)
                {
                    return;
                }

                _recency.Remove(slot);
                _held -= size(kept.Aggregate);
            }

            slot = _recency.AddFirst((key, entry));
            _slots[key] = slot;
            _held += size(entry.Aggregate);
            while (_held > bound && _recency.Last is { } oldest && oldest != slot)
            {
                _recency.RemoveLast();
                _slots.Remove(oldest.Value.Key);
                _held -= size(oldest.Value.Entry.Aggregate);
            }
        }
    }
}

/// <summary>
/// A stream a command writes to: the aggregate at the locked version, and where its events go (Marten's stream when
/// Marten folded it, else appended to the stream by id: the row is locked either way).
/// </summary>
public sealed class StreamWrite<T>(IDocumentSession session, Guid id, T? aggregate, long version, long epoch, IEventStream<T>? stream)
    where T : class
{
    /// <summary>The aggregate at the locked version: null when the stream is new.</summary>
    public T? Aggregate => aggregate;

    private int _appended;

    /// <summary>The stream as the cache hands it over, or as Marten folded it after <see cref="AggregateWriteCache{T}.LockAsync"/>.</summary>
    public static StreamWrite<T> From(IDocumentSession session, Guid id, (AggregateWriteCache<T>.Entry? Kept, long Epoch) locked, IEventStream<T>? folded) =>
        locked.Kept is { } kept
            ? new(session, id, kept.Aggregate, kept.Version, kept.Epoch, null)
            : new(session, id, folded!.Aggregate, folded.CurrentVersion ?? 0, locked.Epoch, folded);

    public void Append(object @event)
    {
        if (stream is not null)
        {
            stream.AppendOne(@event);
        }
        else
        {
            session.Events.Append(id, @event);
        }

        _appended++;
    }

    /// <summary>Keeps <paramref name="after"/>, the aggregate with every appended event applied, once the command commits.</summary>
    public void KeepAfterCommit(AggregateWriteCache<T> cache, T after) =>
        cache.KeepAfterCommit(session, id, new AggregateWriteCache<T>.Entry(after, version + _appended, epoch));
}

/// <summary>
/// A sequence advanced by every patient erasure (<c>ErasePatient</c>) after it has locked the patient's streams and
/// before it masks their events in place: a command that locks one of them after that reads the new value, so an
/// aggregate kept from before the masking (<see cref="AggregateWriteCache{T}"/>) is not taken for current.
/// </summary>
public static class ErasureEpoch
{
    public const string Sequence = "mt_erasure_epoch";

    /// <summary>How many times the sequence was advanced.</summary>
    public static string Sql(IDocumentSession session) =>
        $"select case when e.is_called then e.last_value else 0 end from {session.DocumentStore.Options.Events.DatabaseSchemaName}.{Sequence} e";

    public static async Task AdvanceAsync(NpgsqlDataSource database, IDocumentSession session, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand($"select nextval('{session.DocumentStore.Options.Events.DatabaseSchemaName}.{Sequence}')");
        await command.ExecuteScalarAsync(cancellation);
    }
}
