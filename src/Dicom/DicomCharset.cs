using System.Text;

namespace EventSourced.Dicom;

/// <summary>
/// Decoding of text under Specific Character Set (0008,0005), PS3.3 C.12.1.1.2 and PS3.5 §6.1.
/// Without code extensions a value decodes with one encoding; with ISO 2022 code extensions
/// (PS3.5 §6.1.2.5) G0 and G1 are switched by escape sequences and revert to the initial sets
/// at value, component-group and line delimiters (PS3.5 §6.1.2.5.3).
/// </summary>
public sealed class DicomCharset
{
    static DicomCharset() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    private enum Set : byte
    {
        None,
        Ascii,
        JisRoman,     // ISO 2022 IR 13 G0: JIS X 0201 Roman
        JisKatakana,  // ISO 2022 IR 13 G1: JIS X 0201 Katakana
        Jis0208,      // ISO 2022 IR 87, G0, two bytes
        Jis0212,      // ISO 2022 IR 159, G0, two bytes
        Ksx1001,      // ISO 2022 IR 149, G1, two bytes
        Gb2312,       // ISO 2022 IR 58, G1, two bytes
        Latin,        // an ISO 8859 part in G1 (its Encoding is kept alongside)
    }

    private readonly Encoding? _whole;      // non-ISO-2022: decode the value in one go
    private readonly Set _initialG0;
    private readonly Set _initialG1;
    private readonly Encoding? _initialG1Encoding;

    private DicomCharset(string[] terms, Encoding? whole, Set g0, Set g1, Encoding? g1Encoding)
    {
        Terms = terms;
        _whole = whole;
        _initialG0 = g0;
        _initialG1 = g1;
        _initialG1Encoding = g1Encoding;
    }

    /// <summary>Default repertoire (ISO IR 6). Bytes above 0x7F, which it does not define, map as Latin-1 so nothing is lost.</summary>
    public static DicomCharset Default { get; } = new([], Encoding.Latin1, Set.Ascii, Set.None, null);

    public IReadOnlyList<string> Terms { get; }

    public bool IsUtf8 => _whole is UTF8Encoding;

    /// <summary>Defined terms of PS3.3 Table C.12-2 (single-byte, no extensions) to code pages.</summary>
    private static Encoding? SingleByte(string term) => term switch
    {
        "ISO_IR 100" or "ISO 2022 IR 100" => Encoding.Latin1,
        "ISO_IR 101" or "ISO 2022 IR 101" => Encoding.GetEncoding(28592),
        "ISO_IR 109" or "ISO 2022 IR 109" => Encoding.GetEncoding(28593),
        "ISO_IR 110" or "ISO 2022 IR 110" => Encoding.GetEncoding(28594),
        "ISO_IR 144" or "ISO 2022 IR 144" => Encoding.GetEncoding(28595),
        "ISO_IR 127" or "ISO 2022 IR 127" => Encoding.GetEncoding(28596),
        "ISO_IR 126" or "ISO 2022 IR 126" => Encoding.GetEncoding(28597),
        "ISO_IR 138" or "ISO 2022 IR 138" => Encoding.GetEncoding(28598),
        "ISO_IR 148" or "ISO 2022 IR 148" => Encoding.GetEncoding(28599),
        "ISO_IR 203" or "ISO 2022 IR 203" => Encoding.GetEncoding(28605),
        "ISO_IR 166" or "ISO 2022 IR 166" => Encoding.GetEncoding(874),
        _ => null,
    };

    private static readonly Dictionary<string, DicomCharset> Cache = new(StringComparer.Ordinal);

    /// <summary>Builds the charset for the values of (0008,0005); unknown terms fall back to the default repertoire.</summary>
    public static DicomCharset FromSpecificCharacterSet(IReadOnlyList<string> values)
    {
        if (values.Count == 0 || (values.Count == 1 && values[0].Length == 0))
        {
            return Default;
        }
        var key = string.Join('\\', values);
        lock (Cache)
        {
            if (Cache.TryGetValue(key, out var cached))
            {
                return cached;
            }
            var cs = Create([.. values]);
            Cache[key] = cs;
            return cs;
        }
    }

    private static DicomCharset Create(string[] terms)
    {
        var first = terms[0].Trim();
        var extensions = terms.Any(t => t.StartsWith("ISO 2022", StringComparison.Ordinal));
        if (!extensions)
        {
            // No code extensions: one encoding for the whole value (PS3.3 C.12.1.1.2, Table C.12-2/C.12-4).
            var whole = first switch
            {
                "ISO_IR 192" => new UTF8Encoding(false, false),
                "GB18030" => Encoding.GetEncoding(54936),
                "GBK" => Encoding.GetEncoding(936),
                "ISO_IR 13" => Encoding.GetEncoding(932),
                "ISO_IR 6" or "" => Encoding.Latin1,
                _ => SingleByte(first) ?? Encoding.Latin1,
            };
            return new DicomCharset(terms, whole, Set.Ascii, Set.None, null);
        }
        // Code extensions (Table C.12-3/C.12-4): value 1 (possibly empty = IR 6) is active initially.
        return first switch
        {
            "ISO 2022 IR 13" => new DicomCharset(terms, null, Set.JisRoman, Set.JisKatakana, null),
            "ISO 2022 IR 149" => new DicomCharset(terms, null, Set.Ascii, Set.Ksx1001, null),
            "ISO 2022 IR 58" => new DicomCharset(terms, null, Set.Ascii, Set.Gb2312, null),
            _ when SingleByte(first) is { } enc => new DicomCharset(terms, null, Set.Ascii, Set.Latin, enc),
            _ => new DicomCharset(terms, null, Set.Ascii, Set.None, null),
        };
    }

    private static readonly Lazy<Encoding> EucJp = new(() => Encoding.GetEncoding(20932));
    private static readonly Lazy<Encoding> EucKr = new(() => Encoding.GetEncoding(51949));
    private static readonly Lazy<Encoding> Gb = new(() => Encoding.GetEncoding(936));

    /// <summary>Decodes a value. For PN, '^' and '=' also reset the code extension state (PS3.5 §6.1.2.5.3).</summary>
    public string Decode(ReadOnlySpan<byte> bytes, DicomVR vr)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }
        if (_whole is not null)
        {
            return _whole.GetString(bytes);
        }
        return DecodeIso2022(bytes, vr == DicomVR.PN);
    }

    private string DecodeIso2022(ReadOnlySpan<byte> b, bool personName)
    {
        var sb = new StringBuilder(b.Length);
        Set g0 = _initialG0, g1 = _initialG1;
        var g1Enc = _initialG1Encoding;
        var i = 0;
        Span<byte> tmp = stackalloc byte[3];
        while (i < b.Length)
        {
            var c = b[i];
            if (c == 0x1B)
            {
                i += Escape(b[i..], ref g0, ref g1, ref g1Enc);
                continue;
            }
            if (c < 0x80)
            {
                if (g0 is Set.Jis0208 or Set.Jis0212 && c >= 0x21 && c < 0x7F && i + 1 < b.Length && b[i + 1] >= 0x21 && b[i + 1] < 0x7F)
                {
                    // Two-byte G0 set: map to EUC-JP (high bit set, 0x8F prefix for JIS X 0212).
                    var n = 0;
                    if (g0 == Set.Jis0212)
                    {
                        tmp[n++] = 0x8F;
                    }
                    tmp[n++] = (byte)(c | 0x80);
                    tmp[n++] = (byte)(b[i + 1] | 0x80);
                    sb.Append(EucJp.Value.GetString(tmp[..n]));
                    i += 2;
                    continue;
                }
                // JIS X 0201 Roman differs from ASCII only at 05/12 (yen) and 07/14 (overline); 05/12 stays the
                // value delimiter (PS3.5 §6.1.2.3), so both are kept as ASCII, as pydicom decodes them.
                sb.Append((char)c);
                i++;
                if (c is 0x0D or 0x0A or 0x09 or 0x0C or (byte)'\\' || (personName && c is (byte)'^' or (byte)'='))
                {
                    g0 = _initialG0;
                    g1 = _initialG1;
                    g1Enc = _initialG1Encoding;
                }
                continue;
            }
            switch (g1)
            {
                case Set.Ksx1001 or Set.Gb2312 when i + 1 < b.Length && b[i + 1] >= 0x80:
                    sb.Append((g1 == Set.Ksx1001 ? EucKr.Value : Gb.Value).GetString(b.Slice(i, 2)));
                    i += 2;
                    break;
                case Set.JisKatakana when c is >= 0xA1 and <= 0xDF:
                    sb.Append((char)(0xFF61 + (c - 0xA1)));
                    i++;
                    break;
                case Set.Latin when g1Enc is not null:
                    sb.Append(g1Enc.GetString(b.Slice(i, 1)));
                    i++;
                    break;
                default:
                    sb.Append((char)c);
                    i++;
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>Applies one escape sequence (PS3.3 Table C.12-3/C.12-4) and returns its length; unknown ones are skipped as ESC alone.</summary>
    private static int Escape(ReadOnlySpan<byte> b, ref Set g0, ref Set g1, ref Encoding? g1Enc)
    {
        if (b.Length >= 3)
        {
            switch (b[1], b[2])
            {
                case ((byte)'(', (byte)'B'):
                    g0 = Set.Ascii;
                    return 3;
                case ((byte)'(', (byte)'J'):
                    g0 = Set.JisRoman;
                    return 3;
                case ((byte)')', (byte)'I'):
                    g1 = Set.JisKatakana;
                    return 3;
                case ((byte)'$', (byte)'B') or ((byte)'$', (byte)'@'):
                    g0 = Set.Jis0208;
                    return 3;
                case ((byte)'-', var f):
                    var term = f switch
                    {
                        (byte)'A' => "ISO_IR 100", (byte)'B' => "ISO_IR 101", (byte)'C' => "ISO_IR 109",
                        (byte)'D' => "ISO_IR 110", (byte)'L' => "ISO_IR 144", (byte)'G' => "ISO_IR 127",
                        (byte)'F' => "ISO_IR 126", (byte)'H' => "ISO_IR 138", (byte)'M' => "ISO_IR 148",
                        (byte)'b' => "ISO_IR 203", (byte)'T' => "ISO_IR 166", _ => null,
                    };
                    if (term is not null)
                    {
                        g1 = Set.Latin;
                        g1Enc = SingleByte(term);
                        return 3;
                    }
                    break;
            }
        }
        if (b.Length >= 4 && b[1] == (byte)'$')
        {
            switch (b[2], b[3])
            {
                case ((byte)'(', (byte)'D'):
                    g0 = Set.Jis0212;
                    return 4;
                case ((byte)')', (byte)'C'):
                    g1 = Set.Ksx1001;
                    return 4;
                case ((byte)')', (byte)'A'):
                    g1 = Set.Gb2312;
                    return 4;
            }
        }
        return 1;
    }

    /// <summary>
    /// Encodes text. Without code extensions the value's encoding is used; with them only the
    /// initial G0/G1 sets are used (no escape sequences are emitted), falling back to UTF-8 is not allowed
    /// so unencodable characters become '?'.
    /// </summary>
    public byte[] Encode(string text)
    {
        if (_whole is not null)
        {
            return _whole.GetBytes(text);
        }
        if (_initialG1 == Set.Latin && _initialG1Encoding is not null)
        {
            return _initialG1Encoding.GetBytes(text);
        }
        return Encoding.ASCII.GetBytes(text);
    }
}
