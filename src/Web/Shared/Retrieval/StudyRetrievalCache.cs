using System.Diagnostics.CodeAnalysis;
using JasperFx.Events;
using Microsoft.Extensions.Caching.Memory;

namespace EventSourced.Web.Shared.Retrieval;

/// <summary>
/// A study stream's state as a retrieval read it: its version, the time of its last event and its creation.
/// Every change to what a study serves (an instance stored, replaced, erased, deprecated, deleted or restored, a
/// patient assigned by an update, merge, move or undo, a series refiled in or out) is an event on that stream,
/// appended in the same transaction as the inline read models it changes; so equal stamps mean equal read
/// models. The creation time tells a stream deleted and begun again (whose versions restart) from the first.
/// </summary>
public readonly record struct StudyStamp(long Version, DateTimeOffset LastEvent, DateTimeOffset Created)
{
    /// <summary>No stamp (nothing cached is ever served) for a missing or archived stream.</summary>
    public static StudyStamp? Of(StreamState? state) =>
        state is null || state.IsArchived ? null : new StudyStamp(state.Version, state.LastTimestamp, state.Created);
}

/// <summary>
/// What retrieval derives from a study's read models (its rendered WADO-RS metadata, the corrections its files are
/// served with), kept per node and served only while the study stream's state read in the request's own round trip
/// equals the state it was derived at (docs/architecture.md, "Retrieval: derived once per study version"). Never
/// trusted by age: a change committed on any node moves the stamp, and the next request derives again. Bounded
/// in bytes; the least recently used entries go first.
/// </summary>
public sealed class StudyRetrievalCache : IDisposable
{
    /// <summary>The cache's budget: rendered metadata of a few hundred ordinary studies.</summary>
    public const long Budget = 32L * 1024 * 1024;

    /// <summary>A larger rendering is not kept (nor built in memory: it is streamed as before).</summary>
    public const long MaxEntry = 4L * 1024 * 1024;

    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = Budget, CompactionPercentage = 0.25 });

    /// <summary>The value derived at <paramref name="stamp"/>; false when there is none, or none for this stamp.</summary>
    public bool TryGet<T>(object key, StudyStamp? stamp, [MaybeNullWhen(false)] out T value)
        where T : class
    {
        if (stamp is { } current && cache.TryGetValue(key, out Entry<T>? entry) && entry!.Stamp == current)
        {
            value = entry.Value;
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>
    /// Whether something is kept under <paramref name="key"/>, at whatever stamp: a request that will most likely be
    /// answered from it reads the stamp alone first; one that will not reads the stamp with the read models.
    /// </summary>
    public bool Holds(object key) => cache.TryGetValue(key, out _);

    /// <summary>
    /// Keeps <paramref name="value"/> as derived at <paramref name="stamp"/>. The stamp must have been read before
    /// the read models the value was derived from (a later commit then leaves the value newer than its stamp, never
    /// older, and the next request, reading the newer stamp, derives again).
    /// </summary>
    public void Set<T>(object key, StudyStamp? stamp, T value, long size)
        where T : class
    {
        if (stamp is { } at && size <= MaxEntry)
        {
            cache.Set(key, new Entry<T>(at, value), new MemoryCacheEntryOptions { Size = Math.Max(1, size) });
        }
    }

    public void Dispose() => cache.Dispose();

    private sealed record Entry<T>(StudyStamp Stamp, T Value);
}
