using System.Collections.Frozen;

namespace EventSourced.Dicom;

/// <summary>A private element known by creator: groups GroupFrom..GroupTo, element byte within the creator's block.</summary>
public sealed record DicomPrivateEntry(ushort GroupFrom, ushort GroupTo, string Creator, byte ElementByte, DicomDictionaryEntry Entry);

/// <summary>
/// Private data elements as DCMTK's private.dic knows them. A private element (gggg,xxee) belongs to the
/// creator named in (gggg,00xx) (PS3.5 §7.8.1); its VR matters only where the encoding omits it (implicit VR).
/// </summary>
public static partial class DicomPrivateDictionary
{
    private static readonly DicomPrivateEntry[] All = Create();

    private static readonly FrozenDictionary<(ushort Group, string Creator, byte Element), DicomPrivateEntry> Exact = All
        .Where(e => e.GroupFrom == e.GroupTo)
        .ToFrozenDictionary(e => (e.GroupFrom, e.Creator, e.ElementByte));

    private static readonly DicomPrivateEntry[] Ranged = [.. All.Where(e => e.GroupFrom != e.GroupTo)];

    public static int Count => All.Length;

    private static DicomPrivateEntry[] Create()
    {
        var entries = new List<DicomPrivateEntry>(3000);
        for (var rows = new DictionaryRows(Rows); rows.MoveNext();)
        {
            var (groupFrom, groupTo, creator, element) = ((ushort)rows.Hex(), (ushort)rows.Hex(), rows.Text(), (byte)rows.Hex());
            entries.Add(new(groupFrom, groupTo, creator, element, rows.Entry(0, hasRetired: false)));
        }
        return [.. entries];
    }

    public static DicomDictionaryEntry? Lookup(ushort group, string creator, byte element)
    {
        if (Exact.TryGetValue((group, creator, element), out var e))
        {
            return e.Entry;
        }
        foreach (var r in Ranged)
        {
            if (group >= r.GroupFrom && group <= r.GroupTo && r.ElementByte == element && r.Creator == creator)
            {
                return r.Entry;
            }
        }
        return null;
    }
}
