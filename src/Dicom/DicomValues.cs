using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace EventSourced.Dicom;

/// <summary>A person name value: up to three component groups (PS3.5 §6.2.1).</summary>
public sealed record DicomPersonName(string Alphabetic, string Ideographic, string Phonetic)
{
    /// <summary>Components of a group: family, given, middle, prefix, suffix (PS3.5 §6.2.1.1).</summary>
    public static string[] Components(string group) => group.Split('^');

    public bool IsEmpty => Alphabetic.Length == 0 && Ideographic.Length == 0 && Phonetic.Length == 0;

    /// <summary>Trailing empty components carry nothing and may be dropped (PS3.5 §6.2.1.1); "^^^^" is an empty name.</summary>
    public DicomPersonName WithoutTrailingEmptyComponents() =>
        new(Alphabetic.TrimEnd('^', ' '), Ideographic.TrimEnd('^', ' '), Phonetic.TrimEnd('^', ' '));

    public static DicomPersonName Parse(string value)
    {
        var groups = value.Split('=');
        return new DicomPersonName(groups[0], groups.Length > 1 ? groups[1] : "", groups.Length > 2 ? groups[2] : "");
    }
}

/// <summary>Typed decoding of element values per VR (PS3.5 §6.2).</summary>
public static class DicomValues
{
    private static readonly char[] TrimChars = [' ', '\0'];

    /// <summary>The whole value as text (charset applied), trailing padding removed.</summary>
    public static string GetString(DicomElement e) => GetString(e, CharsetOf(e));

    public static string GetString(DicomElement e, DicomCharset charset)
    {
        var span = e.RawValue.Span;
        var text = DicomVRInfo.UsesSpecificCharset(e.VR) ? charset.Decode(span, e.VR) : DecodeDefault(span);
        // Text VRs keep leading spaces (PS3.5 §6.2: LT/ST/UT/UC "leading spaces significant").
        return e.VR is DicomVR.LT or DicomVR.ST or DicomVR.UT or DicomVR.UR
            ? text.TrimEnd(TrimChars)
            : e.VR is DicomVR.UC or DicomVR.PN ? text.TrimEnd(TrimChars) : text.Trim(TrimChars);
    }

    /// <summary>Values split on backslash (VM &gt; 1, PS3.5 §6.4) with insignificant spaces removed.</summary>
    public static string[] GetStrings(DicomElement e) => GetStrings(e, CharsetOf(e));

    public static string[] GetStrings(DicomElement e, DicomCharset charset)
    {
        if (e.RawValue.IsEmpty)
        {
            return [];
        }
        var span = e.RawValue.Span;
        var text = DicomVRInfo.UsesSpecificCharset(e.VR) ? charset.Decode(span, e.VR) : DecodeDefault(span);
        if (!DicomVRInfo.IsMultiValuedString(e.VR))
        {
            var t = text.TrimEnd(TrimChars);
            return [t];
        }
        var parts = text.Split('\\');
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = e.VR is DicomVR.PN or DicomVR.UC ? parts[i].TrimEnd(TrimChars) : parts[i].Trim(TrimChars);
        }
        return parts;
    }

    private static DicomCharset CharsetOf(DicomElement e) => e.Owner?.Charset ?? DicomCharset.Default;

    private static string DecodeDefault(ReadOnlySpan<byte> span) => Encoding.Latin1.GetString(span);

    public static DicomPersonName[] GetPersonNames(DicomElement e) => [.. GetStrings(e).Select(DicomPersonName.Parse)];

    /// <summary>Binary values (US, SS, UL, SL, FL, FD, SV, UV, OB/OW/OF/OD/OL/OV); trailing bytes short of one value are ignored.</summary>
    public static T[] GetBinary<T>(DicomElement e) where T : unmanaged
    {
        var span = e.RawValue.Span;
        var size = Marshal.SizeOf<T>();
        var n = span.Length / size;
        return MemoryMarshal.Cast<byte, T>(span[..(n * size)]).ToArray();
    }

    /// <summary>AT: pairs of 16-bit group and element (PS3.5 §6.2).</summary>
    public static DicomTag[] GetTags(DicomElement e)
    {
        var u = GetBinary<ushort>(e);
        var tags = new DicomTag[u.Length / 2];
        for (var i = 0; i < tags.Length; i++)
        {
            tags[i] = new DicomTag(u[2 * i], u[2 * i + 1]);
        }
        return tags;
    }

    /// <summary>IS: integer strings, range -2^31..2^31-1 (PS3.5 §6.2); wider values are tolerated as long.</summary>
    public static long[] GetIntegerStrings(DicomElement e) =>
        [.. GetStrings(e).Where(s => s.Length > 0).Select(s => ParseIS(s, e))];

    /// <summary>DS: decimal strings in fixed or exponential notation (PS3.5 §6.2).</summary>
    public static double[] GetDecimalStrings(DicomElement e) =>
        [.. GetStrings(e).Where(s => s.Length > 0).Select(s => ParseDS(s, e))];

    public static long ParseIS(string s, DicomElement? e = null) =>
        long.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new DicomFormatException($"'{s}' is not an IS value", -1, e?.Tag);

    public static double ParseDS(string s, DicomElement? e = null) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new DicomFormatException($"'{s}' is not a DS value", -1, e?.Tag);

    /// <summary>DA: YYYYMMDD; the ACR-NEMA form YYYY.MM.DD is accepted too (PS3.5 §6.2 note).</summary>
    public static DateOnly ParseDate(string s)
    {
        var t = s.Replace(".", "", StringComparison.Ordinal);
        return DateOnly.TryParseExact(t, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d
            : throw new DicomFormatException($"'{s}' is not a DA value", -1, null);
    }

    /// <summary>TM: HH[MM[SS[.F{1,6}]]]; ACR-NEMA colons accepted (PS3.5 §6.2).</summary>
    public static TimeOnly ParseTime(string s)
    {
        var t = s.Replace(":", "", StringComparison.Ordinal).Trim();
        if (t.Length < 2 || !int.TryParse(t.AsSpan(0, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var h))
        {
            throw new DicomFormatException($"'{s}' is not a TM value", -1, null);
        }
        int m = 0, sec = 0;
        long ticks = 0;
        if (t.Length >= 4 && !int.TryParse(t.AsSpan(2, 2), NumberStyles.None, CultureInfo.InvariantCulture, out m))
        {
            throw new DicomFormatException($"'{s}' is not a TM value", -1, null);
        }
        if (t.Length >= 6 && !int.TryParse(t.AsSpan(4, 2), NumberStyles.None, CultureInfo.InvariantCulture, out sec))
        {
            throw new DicomFormatException($"'{s}' is not a TM value", -1, null);
        }
        if (t.Length > 7 && t[6] == '.')
        {
            var frac = t[7..].PadRight(7, '0')[..7];
            if (!long.TryParse(frac, NumberStyles.None, CultureInfo.InvariantCulture, out ticks))
            {
                throw new DicomFormatException($"'{s}' is not a TM value", -1, null);
            }
        }
        // 60 seconds is a leap second (PS3.5 §6.2 TM); clamp to 59.
        if (h > 23 || m > 59 || sec > 60)
        {
            throw new DicomFormatException($"'{s}' is not a TM value", -1, null);
        }
        return new TimeOnly(h, m, Math.Min(sec, 59)).Add(TimeSpan.FromTicks(ticks));
    }

    /// <summary>DT: YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&amp;ZZXX] (PS3.5 §6.2); missing parts default to their minimum.</summary>
    public static DateTimeOffset ParseDateTime(string s)
    {
        var t = s.Trim();
        var offset = TimeSpan.Zero;
        var zi = t.IndexOfAny(['+', '-'], 4);
        if (zi > 0)
        {
            var z = t[zi..];
            if (z.Length != 5 || !int.TryParse(z.AsSpan(1, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var zh)
                || !int.TryParse(z.AsSpan(3, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var zm))
            {
                throw new DicomFormatException($"'{s}' is not a DT value", -1, null);
            }
            offset = new TimeSpan(zh, zm, 0) * (z[0] == '-' ? -1 : 1);
            t = t[..zi];
        }
        try
        {
            int Part(int at, int len, int dflt) => t.Length >= at + len ? int.Parse(t.AsSpan(at, len), NumberStyles.None, CultureInfo.InvariantCulture) : dflt;
            var date = new DateTime(Part(0, 4, 1), Part(4, 2, 1), Part(6, 2, 1), Part(8, 2, 0), Part(10, 2, 0), Math.Min(Part(12, 2, 0), 59), DateTimeKind.Unspecified);
            if (t.Length > 15 && t[14] == '.')
            {
                date = date.AddTicks(long.Parse(t[15..].PadRight(7, '0')[..7], NumberStyles.None, CultureInfo.InvariantCulture));
            }
            return new DateTimeOffset(date, offset);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            throw new DicomFormatException($"'{s}' is not a DT value", -1, null, ex);
        }
    }

    /// <summary>Encodes string values joined by backslash and padded to even length (PS3.5 §6.2, §7.1.1).</summary>
    public static byte[] EncodeStrings(DicomVR vr, IReadOnlyList<string> values, DicomCharset charset)
    {
        var joined = string.Join('\\', values);
        var bytes = DicomVRInfo.UsesSpecificCharset(vr) ? charset.Encode(joined, vr) : Encoding.ASCII.GetBytes(joined);
        if ((bytes.Length & 1) == 0)
        {
            return bytes;
        }
        var padded = new byte[bytes.Length + 1];
        bytes.CopyTo(padded, 0);
        padded[^1] = DicomVRInfo.PaddingByte(vr);
        return padded;
    }

    public static byte[] EncodeBinary<T>(ReadOnlySpan<T> values) where T : unmanaged => MemoryMarshal.AsBytes(values).ToArray();
}
