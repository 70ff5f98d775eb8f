using System.Runtime.CompilerServices;
using EventSourced.Domain.Studies;
using Marten;
using Marten.Services;
using Microsoft.Extensions.Options;

namespace EventSourced.Application.Ingestion.StoringInstances;

/// <summary>
/// The study aggregates this node's stores last committed, each at the stream version and erasure epoch it was
/// folded at, so that the next store into the study reads only what the log gained since (usually nothing)
/// instead of folding the study's whole stream again: a study sent one instance per request no longer costs
/// in proportion to what it already holds (docs/benchmarks.md, "A study stored instance by instance").
/// </summary>
/// <remarks>
/// <para>An entry is a baseline, never trusted blindly (<see cref="StoreLoads"/>): the study's stream row is
/// locked and its version read, as before; an entry at that version is the aggregate; one behind it is brought
/// forward with the events after it (written by another node, or by another command of this one); anything
/// else, and any entry whose erasure epoch is not the database's, is folded from the log again.</para>
/// <para>The erasure epoch (<see cref="EpochSequence"/>) covers the one change of the log that adds no event:
/// a patient's erasure masks the events in place. The erasure advances the epoch after it has locked the
/// patient's studies and before it masks them, so no store can fold unmasked events and then be taken for
/// current (a store of those studies waits for the erasure's locks, and then reads the new epoch).</para>
/// <para>An entry is written only after its command's commit (<see cref="AfterCommitAsync"/>), at the version
/// that commit produced: a rolled-back command leaves the entry it started from, which the next store then finds
/// behind or matching, as the log says. Bounded by <see cref="IngestionOptions.StudyCacheInstances"/> instances in
/// all; least recently used first out.</para>
/// </remarks>
public sealed class StudyWriteCache(IOptions<IngestionOptions> options) : DocumentSessionListenerBase
{
    /// <summary>The erasure epoch's sequence, in the event store's schema.</summary>
    public const string EpochSequence = "mt_erasure_epoch";

    /// <summary>A study's aggregate as folded at <paramref name="Version"/> of its stream, in erasure epoch <paramref name="Epoch"/>.</summary>
    public sealed record Entry(Study Study, long Version, long Epoch);

    private readonly record struct Key(string Tenant, Guid Stream);

    private sealed class Pending
    {
        public Dictionary<Key, Entry> Entries { get; } = [];
    }

    private readonly Lock _gate = new();
    private readonly Dictionary<Key, LinkedListNode<(Key Key, Entry Entry)>> _slots = [];
    private readonly LinkedList<(Key Key, Entry Entry)> _recency = new(); // most recently used first
    private readonly ConditionalWeakTable<IDocumentSession, Pending> _pending = new();
    private long _instances;
    private long _epoch = -1;
    private long _hits;

    /// <summary>Stores that started from a kept aggregate (at the locked version, or brought forward to it).</summary>
    public long Hits => Interlocked.Read(ref _hits);

    public void Hit() => Interlocked.Increment(ref _hits);

    /// <summary>
    /// The latest erasure epoch this node has read (-1 before its first): what a study folded from the log is
    /// tagged with, read before the fold, so an erasure after it leaves the entry behind the database's epoch.
    /// </summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    public void Saw(long epoch)
    {
        var seen = Interlocked.Read(ref _epoch);
        while (epoch > seen && Interlocked.CompareExchange(ref _epoch, epoch, seen) is var was && was != seen)
        {
            seen = was;
        }
    }

    /// <summary>Instances held by the cached aggregates, in all.</summary>
    public long Instances
    {
        get
        {
            lock (_gate)
            {
                return _instances;
            }
        }
    }

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

    /// <summary>Drops an entry found not to describe the log (another version, another epoch).</summary>
    public void Forget(string tenant, Guid stream)
    {
        lock (_gate)
        {
            if (_slots.Remove(new Key(tenant, stream), out var slot))
            {
                _recency.Remove(slot);
                _instances -= slot.Value.Entry.Study.Instances.Count;
            }
        }
    }

    /// <summary>
    /// The aggregate <paramref name="session"/>'s command leaves the study at, kept once (and if) the session commits.
    /// </summary>
    public void KeepAfterCommit(IDocumentSession session, Guid stream, Entry entry)
    {
        if (options.Value.StudyCacheInstances <= 0 || entry.Study.Instances.Count > options.Value.StudyCacheInstances)
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

    private void Keep(Key key, Entry entry)
    {
        var limit = options.Value.StudyCacheInstances;
        lock (_gate)
        {
            if (_slots.TryGetValue(key, out var slot))
            {
                // Two commits of one study finish in lock order, but their listeners may run in either: the later version stays.
                var kept = slot.Value.Entry;
                if (kept.Version > entry.Version && kept.Epoch >= entry.Epoch)
                {
                    return;
                }

                _recency.Remove(slot);
                _instances -= kept.Study.Instances.Count;
            }

            slot = _recency.AddFirst((key, entry));
            _slots[key] = slot;
            _instances += entry.Study.Instances.Count;
            while (_instances > limit && _recency.Last is { } oldest && oldest != slot)
            {
                _recency.RemoveLast();
                _slots.Remove(oldest.Value.Key);
                _instances -= oldest.Value.Entry.Study.Instances.Count;
            }
        }
    }
}
