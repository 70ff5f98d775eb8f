using System.Text.Json.Serialization;

namespace EventSourced.Projections.StudyFeed;

/// <summary>
/// What the database keeps of one <see cref="StudyFeedEntry"/>: only what the feed's filters and order need,
/// in columns, and an empty document (every member is left out of the JSON). The rest of the entry (kind, who,
/// channel, details, the instance's header) is its event's, mapped again by <see cref="StudyFeedMapping"/>
/// when a page is served (<see cref="StudyFeedReader"/>): one entry a row of about 100 bytes instead of a
/// document of 600 (docs/architecture.md, "The study feed's rows").
/// </summary>
public sealed record StudyFeedRow
{
    /// <summary>Bits of <see cref="Id"/> below the sequence: an event gives at most 2^24 entries.</summary>
    public const int IndexBits = 24;

    /// <summary><c>Sequence &lt;&lt; 24 | Index</c>: the feed's order is the order of the ids, a page a range of them.</summary>
    [JsonIgnore]
    public long Id { get; init; }

    [JsonIgnore]
    public string StudyInstanceUid { get; init; } = "";

    /// <summary>Null for a change of the study as a whole.</summary>
    [JsonIgnore]
    public string? SopInstanceUid { get; init; }

    /// <summary>The DICOMweb change feed's action; null: not in that feed.</summary>
    [JsonIgnore]
    public string? ChangeFeedAction { get; init; }

    /// <summary>The change's business time, for the change feed's time window.</summary>
    [JsonIgnore]
    public DateTimeOffset OccurredAt { get; init; }

    /// <summary>Sequence numbers from here on have no id (2^39, about 550 billion events).</summary>
    public const long SequenceLimit = 1L << (63 - IndexBits);

    public static long IdOf(long sequence, int index) => sequence is >= 0 and < SequenceLimit
        ? (sequence << IndexBits) | (uint)index
        : throw new ArgumentOutOfRangeException(nameof(sequence), sequence, $"A study-feed entry's sequence number is below {SequenceLimit}.");

    /// <summary>
    /// The highest id an event of this sequence number can have: every entry up to that event is at or below
    /// it (a sequence number past the last one an id can hold: every entry).
    /// </summary>
    public static long LastIdOf(long sequence) => sequence >= SequenceLimit ? long.MaxValue : IdOf(sequence, (1 << IndexBits) - 1);

    public static long SequenceOf(long id) => id >> IndexBits;

    public static int IndexOf(long id) => (int)(id & ((1L << IndexBits) - 1));

    public static StudyFeedRow For(StudyFeedEntry entry) => entry.Index >= 1 << IndexBits
        ? throw new InvalidOperationException($"Event {entry.Sequence} gives more than {1 << IndexBits} study-feed entries.")
        : new()
        {
            Id = IdOf(entry.Sequence, entry.Index),
            StudyInstanceUid = entry.StudyInstanceUid,
            SopInstanceUid = entry.SopInstanceUid,
            ChangeFeedAction = entry.ChangeFeedAction,
            OccurredAt = entry.OccurredAt,
        };
}
