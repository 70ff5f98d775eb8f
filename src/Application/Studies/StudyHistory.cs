using EventSourced.Domain.Archive;
using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Application.Studies;

/// <summary>
/// What the study stream says of each SOP instance beyond the aggregate: the instance as last stored
/// (header, blob; a replacement or an erasure as an InstanceStored of its new bytes) and its archive filings. Read
/// from the events when a rejection note is built or deprecated content comes back.
/// </summary>
public sealed record StudyHistory(
    IReadOnlyDictionary<string, InstanceStored> LastStored,
    IReadOnlyList<InstanceFiledInArchive> Filings)
{
    public static async Task<StudyHistory> LoadAsync(IQuerySession session, Guid streamId, CancellationToken cancellation)
    {
        var events = await session.Events.FetchStreamAsync(streamId, token: cancellation);
        var last = new Dictionary<string, InstanceStored>(StringComparer.Ordinal);
        var filings = new Dictionary<(string, string, string), InstanceFiledInArchive>();
        foreach (var data in InstancesStored.Unbatched(events.Select(e => e.Data)))
        {
            switch (data)
            {
                case InstanceStored stored:
                    last[stored.Instance.SopInstanceUid] = stored with { FiledIn = null }; // its filing goes to Filings
                    foreach (var filed in stored.Filings())
                    {
                        filings.TryAdd((filed.Project, filed.Archive, filed.SopInstanceUid), filed);
                    }

                    break;
                case InstanceReplaced replaced:
                    last[replaced.Instance.SopInstanceUid] = new InstanceStored(replaced.StudyStreamId, replaced.Instance, replaced.ReplacedBy, replaced.ReplacedAt);
                    break;
                case InstanceErased erased:
                    // The patient's data were erased: what comes back later (a restore) is the rewritten instance, never the removed bytes.
                    last[erased.Instance.SopInstanceUid] = new InstanceStored(erased.StudyStreamId, erased.Instance, erased.ErasedBy,
                        last.TryGetValue(erased.Instance.SopInstanceUid, out var before) ? before.StoredAt : erased.ErasedAt);
                    break;
                case SeriesRefiledIn refiled:
                    // Series that joined the study: as the study shows them.
                    foreach (var arrived in refiled.Arrived)
                    {
                        last[arrived.Instance.SopInstanceUid] = new InstanceStored(refiled.StudyStreamId, arrived.Instance, refiled.RefiledBy, arrived.StoredAt);
                    }

                    foreach (var filed in refiled.Filed)
                    {
                        filings[(filed.Project, filed.Archive, filed.SopInstanceUid)] = filed;
                    }

                    break;
                case InstanceFiledInArchive filed:
                    filings.TryAdd((filed.Project, filed.Archive, filed.SopInstanceUid), filed);
                    break;
            }
        }

        return new StudyHistory(last, [.. filings.Values]);
    }
}
