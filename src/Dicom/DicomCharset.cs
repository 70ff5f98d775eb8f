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
    /// Encodes text. Without code extensions the value's encoding is used. With ISO 2022 code extensions
    /// each character goes to the first set of (0008,0005) that holds it, designated by its escape sequence
    /// (PS3.3 Table C.12-3/C.12-4); G0 returns to the initial set before delimiters and at the end of the
    /// value, and designations are repeated after delimiters (PS3.5 §6.1.2.5.3), as the examples of PS3.5
    /// Annexes H, I and J show. Characters no listed set holds become '?'.
    /// </summary>
    public byte[] Encode(string text, DicomVR vr = DicomVR.LO)
    {
        if (_whole is not null)
        {
            return _whole.GetBytes(text);
        }
        var terms = Terms.Select(t => t.Trim()).ToHashSet(StringComparer.Ordinal);
        var latin = Terms.Select(t => t.Trim()).Where(t => t.StartsWith("ISO 2022 IR ", StringComparison.Ordinal))
            .Select(t => (Term: t, Enc: SingleByte(t))).Where(x => x.Enc is not null).ToList();
        var output = new List<byte>(text.Length * 2);
        Set g0 = _initialG0, g1 = _initialG1;
        var g1Enc = _initialG1Encoding;
        var personName = vr == DicomVR.PN;
        Span<byte> buf = stackalloc byte[4];

        void Esc(ReadOnlySpan<byte> seq) => output.AddRange(seq.ToArray());
        void G0Initial()
        {
            if (g0 != _initialG0)
            {
                Esc(_initialG0 == Set.JisRoman ? "\u001b(J"u8 : "\u001b(B"u8);
                g0 = _initialG0;
            }
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c < 0x80)
            {
                var delimiter = c is '\r' or '\n' or '\t' or '\f' or '\\' || (personName && c is '^' or '=');
                if (delimiter || g0 is Set.Jis0208 or Set.Jis0212)
                {
                    G0Initial();
                }
                output.Add((byte)c);
                if (delimiter)
                {
                    g1 = _initialG1;
                    g1Enc = _initialG1Encoding;
                }
                continue;
            }
            var s = c.ToString();
            if (c is >= '\uFF61' and <= '\uFF9F' && terms.Contains("ISO 2022 IR 13"))
            {
                if (g1 != Set.JisKatakana)
                {
                    Esc("\u001b)I"u8);
                    g1 = Set.JisKatakana;
                }
                output.Add((byte)(0xA1 + (c - '\uFF61')));
                continue;
            }
            if (terms.Contains("ISO 2022 IR 87") && TryEncode(EucJp.Value, s, buf, out var n) && n == 2 && buf[0] >= 0xA1)
            {
                if (g0 != Set.Jis0208)
                {
                    Esc("\u001b$B"u8);
                    g0 = Set.Jis0208;
                }
                output.Add((byte)(buf[0] & 0x7F));
                output.Add((byte)(buf[1] & 0x7F));
                continue;
            }
            if (terms.Contains("ISO 2022 IR 159") && TryEncode(EucJp.Value, s, buf, out n) && n == 3 && buf[0] == 0x8F)
            {
                if (g0 != Set.Jis0212)
                {
                    Esc("\u001b$(D"u8);
                    g0 = Set.Jis0212;
                }
                output.Add((byte)(buf[1] & 0x7F));
                output.Add((byte)(buf[2] & 0x7F));
                continue;
            }
            if (terms.Contains("ISO 2022 IR 149") && TryEncode(EucKr.Value, s, buf, out n) && n == 2 && buf[0] >= 0xA1 && buf[1] >= 0xA1)
            {
                if (g1 != Set.Ksx1001)
                {
                    Esc("\u001b$)C"u8);
                    g1 = Set.Ksx1001;
                }
                output.Add(buf[0]);
                output.Add(buf[1]);
                continue;
            }
            if (terms.Contains("ISO 2022 IR 58") && TryEncode(Gb.Value, s, buf, out n) && n == 2 && buf[0] >= 0xA1 && buf[1] >= 0xA1)
            {
                if (g1 != Set.Gb2312)
                {
                    Esc("\u001b$)A"u8);
                    g1 = Set.Gb2312;
                }
                output.Add(buf[0]);
                output.Add(buf[1]);
                continue;
            }
            var done = false;
            foreach (var (term, enc) in latin)
            {
                if (TryEncode(enc!, s, buf, out n) && n == 1 && buf[0] >= 0xA0)
                {
                    if (g1 != Set.Latin || g1Enc?.CodePage != enc!.CodePage)
                    {
                        Esc([0x1B, (byte)'-', Final(term)]);
                        g1 = Set.Latin;
                        g1Enc = enc;
                    }
                    output.Add(buf[0]);
                    done = true;
                    break;
                }
            }
            if (!done)
            {
                output.Add((byte)'?');
            }
        }
        G0Initial();
        return [.. output];
    }

    private static byte Final(string term) => term["ISO 2022 IR ".Length..] switch
    {
        "100" => (byte)'A', "101" => (byte)'B', "109" => (byte)'C', "110" => (byte)'D', "144" => (byte)'L',
        "127" => (byte)'G', "126" => (byte)'F', "138" => (byte)'H', "148" => (byte)'M', "203" => (byte)'b',
        "166" => (byte)'T', _ => (byte)'A',
    };

    private static readonly Dictionary<int, Encoding> Strict = [];

    private static bool TryEncode(Encoding encoding, string s, Span<byte> dst, out int written)
    {
        Encoding strict;
        lock (Strict)
        {
            if (!Strict.TryGetValue(encoding.CodePage, out strict!))
            {
                strict = Encoding.GetEncoding(encoding.CodePage, EncoderFallback.ExceptionFallback, DecoderFallback.ReplacementFallback);
                Strict[encoding.CodePage] = strict;
            }
        }
        try
        {
            written = strict.GetBytes(s, dst);
            return true;
        }
        catch (Exception ex) when (ex is EncoderFallbackException or ArgumentException)
        {
            written = 0;
            return false;
        }
    }
}
