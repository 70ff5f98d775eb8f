using System.Security.Cryptography;
using JasperFx.Events;
using JasperFx.Events.Grouping;
using Marten;

namespace EventSourced.Projections;

/// <summary>
/// Keeps every child of a fanned-out event. JasperFx gives each child of <c>FanOut</c> its parent's event id,
/// and a slice drops events equal by type and id before it applies them (EventSlice.reorderEvents calls
/// Distinct): several children of one type for the same document (the InstanceStored children of a restore,
/// one per instance of a series) would collapse into the first. Registered as the projection's last grouping
/// step, after its fan-outs and identities have put the children into their slices, this gives each further
/// child of a parent its own id (derived from the parent's and its position, so a rebuild gives the same).
/// </summary>
public static class FanOutChildren
{
    public static Task KeepEvery<TId>(IQuerySession session, IReadOnlyList<IEvent> events, IEventGrouping<TId> grouping)
        where TId : notnull
    {
        var seen = new Dictionary<(Type, Guid), int>();
        foreach (var e in events)
        {
            var key = (e.GetType(), e.Id);
            if (seen.TryGetValue(key, out var earlier))
            {
                seen[key] = earlier + 1;
                e.Id = Derived(key.Item2, earlier + 1);
            }
            else
            {
                seen[key] = 0;
            }
        }

        return Task.CompletedTask;
    }

    private static Guid Derived(Guid parent, int position)
    {
        Span<byte> source = stackalloc byte[20];
        parent.TryWriteBytes(source);
        BitConverter.TryWriteBytes(source[16..], position);
        return new Guid(MD5.HashData(source));
    }
}
