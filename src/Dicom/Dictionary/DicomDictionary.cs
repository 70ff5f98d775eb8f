using System.Collections.Frozen;

namespace EventSourced.Dicom;

/// <summary>One PS3.6 registry row. VmMax 0 means unbounded ("n"); VmStep is the n multiplier ("2-2n").</summary>
public sealed record DicomDictionaryEntry(uint TagValue, string Keyword, DicomVR VR, DicomVR AlternateVR, int VmMin, int VmMax, int VmStep, bool Retired)
{
    public DicomTag Tag => new(TagValue);
}

/// <summary>A row that covers a range of groups/elements; parity 'e' = even only, 'o' = odd only, 'u' = all.</summary>
public sealed record DicomRangeEntry(ushort GroupFrom, ushort GroupTo, char GroupParity, ushort ElementFrom, ushort ElementTo, char ElementParity, DicomDictionaryEntry Entry)
{
    public bool Matches(DicomTag tag) =>
        In(tag.Group, GroupFrom, GroupTo, GroupParity) && In(tag.Element, ElementFrom, ElementTo, ElementParity);

    private static bool In(ushort v, ushort from, ushort to, char parity) =>
        v >= from && v <= to && (parity == 'u' || (parity == 'e' ? (v & 1) == 0 : (v & 1) == 1));
}

/// <summary>The standard data dictionary (PS3.6 §6, PS3.7 Annex E), generated from DCMTK's dicom.dic.</summary>
public static partial class DicomDictionary
{
    private static readonly DicomDictionaryEntry[] Exact = CreateExact();
    private static readonly DicomRangeEntry[] Ranged = CreateRanged();
    private static readonly FrozenDictionary<uint, DicomDictionaryEntry> ByTag = Exact.ToFrozenDictionary(e => e.TagValue);

    // Repeating groups 50xx/60xx/7Fxx (PS3.5 §7.6) keyed by their tag with the low group byte cleared.
    private static readonly FrozenDictionary<uint, DicomRangeEntry> ByRepeatingGroup = Ranged
        .Where(r => r.ElementFrom == r.ElementTo && r.GroupTo - r.GroupFrom == 0xFF && (r.GroupFrom & 0xFF) == 0)
        .ToFrozenDictionary(r => ((uint)r.GroupFrom << 16) | r.ElementFrom);

    private static readonly DicomRangeEntry[] OtherRanges = Ranged
        .Where(r => !(r.ElementFrom == r.ElementTo && r.GroupTo - r.GroupFrom == 0xFF && (r.GroupFrom & 0xFF) == 0))
        .ToArray();

    private static readonly FrozenDictionary<string, DicomDictionaryEntry> ByKeyword = Exact
        .Concat(Ranged.Where(r => r.Entry.Keyword is not ("PrivateGroupLength" or "PrivateCreator" or "IllegalGroupLength" or "IllegalPrivateCreator")).Select(r => r.Entry))
        .ToFrozenDictionary(e => e.Keyword, StringComparer.Ordinal);

    public static int Count => Exact.Length + Ranged.Length;

    private static DicomDictionaryEntry[] CreateExact()
    {
        var entries = new List<DicomDictionaryEntry>(5000);
        for (var rows = new DictionaryRows(ExactRows); rows.MoveNext();)
        {
            entries.Add(rows.Entry(rows.Hex(), hasRetired: true));
        }
        return [.. entries];
    }

    private static DicomRangeEntry[] CreateRanged()
    {
        var entries = new List<DicomRangeEntry>();
        for (var rows = new DictionaryRows(RangedRows); rows.MoveNext();)
        {
            var (groupFrom, groupTo, groupParity) = ((ushort)rows.Hex(), (ushort)rows.Hex(), rows.Char());
            var (elementFrom, elementTo, elementParity) = ((ushort)rows.Hex(), (ushort)rows.Hex(), rows.Char());
            entries.Add(new(groupFrom, groupTo, groupParity, elementFrom, elementTo, elementParity, rows.Entry(rows.Hex(), hasRetired: true)));
        }
        return [.. entries];
    }

    /// <summary>Looks a tag up, exact entries first, then repeating groups, then other ranges (private creators, group lengths).</summary>
    public static DicomDictionaryEntry? Lookup(DicomTag tag)
    {
        if (ByTag.TryGetValue(tag.Value, out var e))
        {
            return e;
        }
        if (ByRepeatingGroup.TryGetValue(tag.Value & 0xFF00FFFF, out var r) && r.Matches(tag))
        {
            return r.Entry;
        }
        // Group length (gggg,0000) is UL in every group (PS3.5 §7.2).
        foreach (var range in OtherRanges)
        {
            if (range.Matches(tag))
            {
                return range.Entry;
            }
        }
        return null;
    }

    public static DicomTag? TagOf(string keyword) => ByKeyword.TryGetValue(keyword, out var e) ? e.Tag : null;

    public static string? KeywordOf(DicomTag tag) => Lookup(tag)?.Keyword;

    /// <summary>VR to use when the encoding does not carry one (implicit VR, PS3.5 §7.1.3) or UN must be re-interpreted.</summary>
    public static DicomVR ImplicitVR(DicomTag tag)
    {
        if (tag.Element == 0)
        {
            return DicomVR.UL;
        }
        var e = Lookup(tag);
        return e is null || e.VR == DicomVR.None ? DicomVR.UN : e.VR;
    }
}
