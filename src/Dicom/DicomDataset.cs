namespace EventSourced.Dicom;

/// <summary>A value that was passed over instead of loaded (streaming mode): where it is in the source stream.</summary>
public readonly record struct DicomBulkDataReference(long Offset, long Length);

/// <summary>One fragment of encapsulated pixel data (PS3.5 §A.4): either loaded bytes or a reference.</summary>
public sealed class DicomFragment
{
    public DicomFragment(ReadOnlyMemory<byte> data) => Data = data;

    public DicomFragment(DicomBulkDataReference reference)
    {
        Reference = reference;
        Length = reference.Length;
    }

    public ReadOnlyMemory<byte> Data { get; }
    public DicomBulkDataReference? Reference { get; }
    public long Length { get => field == 0 && Reference is null ? Data.Length : field; private init; }
}

/// <summary>Encapsulated pixel data: the Basic Offset Table (first item) and the fragments (PS3.5 §A.4).</summary>
public sealed class DicomFragmentSequence
{
    public DicomFragment OffsetTable { get; init; } = new(ReadOnlyMemory<byte>.Empty);
    public List<DicomFragment> Fragments { get; } = [];

    /// <summary>The Basic Offset Table's 32-bit little-endian frame offsets (PS3.5 §A.4); empty when the table is empty.</summary>
    public uint[] BasicOffsets() =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(OffsetTable.Data.Span[..(OffsetTable.Data.Length & ~3)]).ToArray();
}

/// <summary>
/// A data element. Binary values are held little-endian whatever the source transfer syntax
/// (big-endian input is swapped on read), so getters need not know where the value came from.
/// </summary>
public sealed class DicomElement
{
    public DicomElement(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> value)
    {
        Tag = tag;
        VR = vr;
        RawValue = value;
    }

    public DicomTag Tag { get; }
    public DicomVR VR { get; internal set; }

    /// <summary>The value bytes (little-endian for binary VRs), padding included.</summary>
    public ReadOnlyMemory<byte> RawValue { get; internal set; }

    /// <summary>Items of an SQ element; null otherwise.</summary>
    public List<DicomDataset>? Items { get; internal set; }

    /// <summary>Encapsulated pixel data; null when native.</summary>
    public DicomFragmentSequence? Fragments { get; internal set; }

    /// <summary>A BulkDataURI read from DICOM JSON (PS3.18 §F.2.6); the value itself is elsewhere.</summary>
    public string? BulkDataUri { get; internal set; }

    /// <summary>Set when the value was skipped in streaming mode.</summary>
    public DicomBulkDataReference? BulkData { get; internal set; }

    /// <summary>Length as encoded (value length of skipped values included).</summary>
    public long Length => BulkData?.Length ?? RawValue.Length;

    /// <summary>The dataset holding this element; its (0008,0005) decides how text decodes.</summary>
    public DicomDataset? Owner { get; internal set; }

    public static DicomElement Sequence(DicomTag tag, IEnumerable<DicomDataset> items)
    {
        var e = new DicomElement(tag, DicomVR.SQ, ReadOnlyMemory<byte>.Empty) { Items = [.. items] };
        return e;
    }

    public override string ToString() => $"{Tag} {DicomVRInfo.Code(VR)} [{Length}]";
}

/// <summary>A data set or sequence item: elements kept in ascending tag order (PS3.5 §7.1).</summary>
public sealed class DicomDataset
{
    private readonly List<DicomElement> _elements = [];
    private DicomCharset? _charset;

    public DicomDataset() { }

    public DicomDataset(DicomDataset? parent) => Parent = parent;

    /// <summary>The enclosing data set for sequence items (charset inheritance, PS3.5 §7.5.3 note).</summary>
    public DicomDataset? Parent { get; internal set; }

    public int Count => _elements.Count;

    public IReadOnlyList<DicomElement> Elements => _elements;

    /// <summary>Character set in force: this item's (0008,0005), else the parent's (PS3.3 C.12.1.1.2).</summary>
    public DicomCharset Charset
    {
        get
        {
            if (_charset is not null)
            {
                return _charset;
            }
            var own = Find(DicomTag.SpecificCharacterSet);
            _charset = own is not null
                ? DicomCharset.FromSpecificCharacterSet(DicomValues.GetStrings(own, DicomCharset.Default))
                : Parent?.Charset ?? DicomCharset.Default;
            return _charset;
        }
    }

    public DicomElement? Find(DicomTag tag)
    {
        var i = IndexOf(tag);
        return i >= 0 ? _elements[i] : null;
    }

    public bool Contains(DicomTag tag) => IndexOf(tag) >= 0;

    public DicomElement this[DicomTag tag] => Find(tag) ?? throw new KeyNotFoundException($"{tag} not in data set");

    /// <summary>Adds or replaces an element, keeping tag order.</summary>
    public void Set(DicomElement element)
    {
        element.Owner = this;
        if (element.Items is not null)
        {
            foreach (var item in element.Items)
            {
                item.Parent = this;
            }
        }
        if (element.Tag == DicomTag.SpecificCharacterSet)
        {
            InvalidateCharset();
        }
        var n = _elements.Count;
        if (n == 0 || _elements[n - 1].Tag.Value < element.Tag.Value)
        {
            _elements.Add(element);
            return;
        }
        var i = IndexOf(element.Tag);
        if (i >= 0)
        {
            _elements[i] = element;
        }
        else
        {
            _elements.Insert(~i, element);
        }
    }

    public bool Remove(DicomTag tag)
    {
        var i = IndexOf(tag);
        if (i < 0)
        {
            return false;
        }
        _elements.RemoveAt(i);
        if (tag == DicomTag.SpecificCharacterSet)
        {
            InvalidateCharset();
        }
        return true;
    }

    private void InvalidateCharset()
    {
        _charset = null;
        foreach (var e in _elements)
        {
            if (e.Items is null)
            {
                continue;
            }
            foreach (var item in e.Items)
            {
                item.InvalidateCharset();
            }
        }
    }

    private int IndexOf(DicomTag tag)
    {
        int lo = 0, hi = _elements.Count - 1;
        var v = tag.Value;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var m = _elements[mid].Tag.Value;
            if (m == v)
            {
                return mid;
            }
            if (m < v)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return ~lo;
    }

    // Typed access (PS3.5 §6.2); missing element gives null / empty.
    public string? GetString(DicomTag tag) => Find(tag) is { } e ? DicomValues.GetString(e) : null;
    public string[] GetStrings(DicomTag tag) => Find(tag) is { } e ? DicomValues.GetStrings(e) : [];
    public T[] GetValues<T>(DicomTag tag) where T : unmanaged => Find(tag) is { } e ? DicomValues.GetBinary<T>(e) : [];
    public T? GetValue<T>(DicomTag tag) where T : unmanaged
    {
        var v = GetValues<T>(tag);
        return v.Length > 0 ? v[0] : null;
    }
    public List<DicomDataset> GetSequence(DicomTag tag) => Find(tag)?.Items ?? [];
    public DicomTag[] GetTags(DicomTag tag) => Find(tag) is { } e ? DicomValues.GetTags(e) : [];
    public long[] GetIntegerStrings(DicomTag tag) => Find(tag) is { } e ? DicomValues.GetIntegerStrings(e) : [];
    public double[] GetDecimalStrings(DicomTag tag) => Find(tag) is { } e ? DicomValues.GetDecimalStrings(e) : [];
    public DicomPersonName? GetPersonName(DicomTag tag) => Find(tag) is { } e ? DicomValues.GetPersonNames(e).FirstOrDefault() : null;
    public DateOnly? GetDate(DicomTag tag) => GetString(tag) is { Length: > 0 } s ? DicomValues.ParseDate(s) : null;
    public TimeOnly? GetTime(DicomTag tag) => GetString(tag) is { Length: > 0 } s ? DicomValues.ParseTime(s) : null;
    public DateTimeOffset? GetDateTime(DicomTag tag) => GetString(tag) is { Length: > 0 } s ? DicomValues.ParseDateTime(s) : null;

    /// <summary>Extended Offset Table (7FE0,0001), 64-bit offsets of each frame's first fragment (PS3.5 §A.4, PS3.3 C.7.6.3.1.8).</summary>
    public ulong[] GetExtendedOffsets() => GetValues<ulong>(DicomTag.ExtendedOffsetTable);

    /// <summary>Convenience setter for string VRs; encodes with this data set's character set.</summary>
    public void AddString(DicomTag tag, DicomVR vr, params string[] values) =>
        Set(new DicomElement(tag, vr, DicomValues.EncodeStrings(vr, values, Charset)));
}
