using System.Globalization;
using System.Text;
using EventSourced.Projections.Qido;

namespace EventSourced.Web.Shared.Qido;

/// <summary>One match condition as SQL: <c>{e}</c> stands for the key's expression, <c>{a}</c> for the row alias, <c>?</c> for the arguments in order.</summary>
public sealed record QidoCondition(QidoKey Key, string Sql, object[] Args)
{
    public string Render(string alias) => Sql.Replace("{e}", Key.Expression(alias), StringComparison.Ordinal)
        .Replace("{f}", $"{alias}.{Key.FuzzyColumn}", StringComparison.Ordinal)
        .Replace("{a}", alias, StringComparison.Ordinal);
}

/// <summary>
/// A parsed QIDO-RS query (PS3.18 §8.3.4): match conditions, the attributes to return, fuzzy matching
/// and paging. Parsing is strict: an unknown attribute or a bad value is a 400 with its reason.
/// </summary>
public sealed class QidoQuery
{
    public const int MaxLimit = Paging.MaxLimit;

    public List<QidoCondition> Conditions { get; } = [];

    /// <summary>Tags asked for by includefield, plus the tags used as match keys (PS3.18 §8.3.4.3: they are returned).</summary>
    public HashSet<string> IncludeFields { get; } = new(StringComparer.Ordinal);

    public bool IncludeAll { get; private set; }
    public bool FuzzyMatching { get; private set; }
    public Paging Paging { get; private set; } = Paging.Default;
    public int Limit => Paging.Limit;
    public int Offset => Paging.Offset;

    /// <summary>True when the limit asked for was above <see cref="MaxLimit"/> and was lowered.</summary>
    public bool LimitLowered => Paging.LimitLowered;

    /// <param name="caseSensitiveNames">
    /// Person names match case-sensitively, as PS3.4 C.2.2.2.4 reads literally. Off by default: Orthanc and dcm4chee
    /// match names ignoring case, and their users type <c>doe^j*</c> for <c>DOE^JANE</c> (setting <c>Qido:CaseSensitivePersonNames</c>).
    /// </param>
    public static (QidoQuery? Query, string? Error) Parse(IQueryCollection parameters, QidoLevel level, bool caseSensitiveNames = false)
    {
        var query = new QidoQuery();
        var fuzzy = parameters["fuzzymatching"];
        if (fuzzy.Count > 0)
        {
            if (!bool.TryParse(fuzzy[^1], out var f))
            {
                return (null, $"fuzzymatching must be true or false, not '{fuzzy[^1]}'.");
            }

            query.FuzzyMatching = f;
        }

        foreach (var (name, values) in parameters)
        {
            switch (name)
            {
                case "fuzzymatching":
                    continue;
                case "limit":
                case "offset":
                    var (paging, pagingError) = name == "limit" ? query.Paging.WithLimit(values[^1]) : query.Paging.WithOffset(values[^1]);
                    if (paging is null)
                    {
                        return (null, pagingError);
                    }

                    query.Paging = paging.Value;
                    continue;
                case "includefield":
                    foreach (var field in values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
                    {
                        if (field == "all")
                        {
                            query.IncludeAll = true;
                        }
                        else if (QidoKeyCatalog.ParseTag(field.Split('.')[0]) is { } tag)
                        {
                            query.IncludeFields.Add(tag.JsonKey());
                        }
                        else
                        {
                            return (null, $"includefield: '{field}' is not a DICOM attribute keyword or tag.");
                        }
                    }

                    continue;
            }

            var (key, error) = QidoKeyCatalog.Resolve(name);
            if (key is null)
            {
                return (null, error);
            }

            if (key.Level > level)
            {
                return (null, $"{key.Keyword} is a {key.Level.ToString().ToLowerInvariant()}-level attribute: it cannot be matched in a {level.ToString().ToLowerInvariant()}-level query.");
            }

            if (values.Count > 1)
            {
                return (null, $"{key.Keyword} is given more than once.");
            }

            query.IncludeFields.Add(key.Tag);
            var value = (values[0] ?? "").Trim();
            if (value.Length == 0 || value == "*")
            {
                continue; // universal matching (PS3.4 C.2.2.2.3): return the attribute, match everything
            }

            var (condition, reason) = Condition(key, value, query.FuzzyMatching, caseSensitiveNames);
            if (condition is null)
            {
                return (null, $"{key.Keyword}: {reason}");
            }

            query.Conditions.Add(condition);
        }

        return (query, null);
    }

    private static (QidoCondition? Condition, string? Error) Condition(QidoKey key, string value, bool fuzzy, bool caseSensitiveNames)
    {
        var wildcard = HasWildcard(value);
        switch (key.Kind)
        {
            case QidoMatchKind.Uid:
            {
                // UID list matching (PS3.4 C.2.2.2.2); PS3.18 allows comma or backslash separators.
                var uids = Split(value);
                if (uids.FirstOrDefault(u => !IsUid(u)) is { } bad)
                {
                    return (null, $"'{bad}' is not a UID (wildcards are not allowed in UIDs).");
                }

                return (new(key, "{e} = any(?)", [uids]), null);
            }

            case QidoMatchKind.Integer:
                return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
                    ? (new(key, "{e} = ?", [number]), null)
                    : (null, $"'{value}' is not an integer.");

            case QidoMatchKind.Date:
                return Range(key, value, v => QidoAttributes.NormalizeDate(v) is { } d && v.Length == 8 ? (d, d) : null, "a date (YYYYMMDD)");

            case QidoMatchKind.Time:
                if (Split(value.Replace('-', ',')).FirstOrDefault(t => !IsTime(t)) is { } badTime)
                {
                    return (null, $"'{badTime}' is not a time (HH[MM[SS[.F{{1,6}}]]]).");
                }

                return key.Column is not null
                    ? Range(key, value, v => QidoAttributes.NormalizeTime(v, '0') is { } lo && QidoAttributes.NormalizeTime(v, '9') is { } hi ? (lo, hi) : null, "a time (HH[MM[SS[.F{1,6}]]])")
                    : Range(key, value, v => QidoAttributes.NormalizeTime(v, '0') is { } lo && QidoAttributes.NormalizeTime(v, '9') is { } hi ? (lo[..6], hi[..6]) : null, "a time (HH[MM[SS[.F{1,6}]]])", "left({e}, 6)");

            case QidoMatchKind.DateTime:
                return Range(key, value, DateTimeBounds, "a date-time without offset (YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]])");

            case QidoMatchKind.List:
            {
                // A multi-valued attribute matches when one of its values does, and a list of values when
                // any of them does (PS3.4 C.2.2.2.1, C.2.2.2.2): exact values by array overlap, which the
                // GIN index serves and the array's element statistics estimate; wildcards element by element.
                var items = Split(value);
                if (items.Any(HasWildcard))
                {
                    var clauses = string.Join(" or ", items.Select(_ => "exists (select 1 from unnest({e}) v(x) where x like ?)"));
                    return (new(key, $"({clauses})", [.. items.Select(Like)]), null);
                }

                return (new(key, "{e} && ?", [items]), null);
            }

            case QidoMatchKind.PersonName when fuzzy:
            {
                // Fuzzy (PS3.4 C.2.2.2.1, "fuzzy semantic matching of person names", implementation defined):
                // every word of the value starts a word of the name, ignoring case and accents.
                var words = QidoAttributes.FuzzyWords(value.Replace("*", " ", StringComparison.Ordinal).Replace("?", " ", StringComparison.Ordinal)).ToArray();
                if (words.Length == 0)
                {
                    return (null, "no name to match.");
                }

                return key.FuzzyColumn is not null
                    ? (new(key, string.Join(" and ", words.Select(_ => "{f} like ?")), [.. words.Select(w => "% " + Escape(w) + "%")]), null)
                    : (new(key, string.Join(" and ", words.Select(_ => "upper({e}) like ?")), [.. words.Select(w => "%" + Escape(w) + "%")]), null);
            }

            case QidoMatchKind.PersonName when !caseSensitiveNames:
                // Single value and wildcard matching (PS3.4 C.2.2.2.1, C.2.2.2.4) with case folded on both sides.
                return wildcard ? (new(key, "upper({e}) like upper(?)", [Like(value)]), null) : (new(key, "upper({e}) = upper(?)", [value]), null);

            default:
                if (key.VR == Dicom.DicomVR.CS && !wildcard && (value.Contains(',', StringComparison.Ordinal) || value.Contains('\\', StringComparison.Ordinal)))
                {
                    return (new(key, "{e} = any(?)", [Split(value)]), null);
                }

                return wildcard ? (new(key, "{e} like ?", [Like(value)]), null) : (new(key, "{e} = ?", [value]), null);
        }
    }

    /// <summary>Single value or range (PS3.4 C.2.2.2.5): <c>a</c>, <c>a-b</c>, <c>a-</c>, <c>-b</c>; a single value is the range it spans.</summary>
    private static (QidoCondition?, string?) Range(QidoKey key, string value, Func<string, (string Low, string High)?> bounds, string what, string expression = "{e}")
    {
        if (HasWildcard(value))
        {
            return (null, $"wildcards are not allowed for {DicomVRText(key)} values.");
        }

        var dash = value.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return bounds(value) is { } single
                ? single.Low == single.High
                    ? (new(key, $"{expression} = ?", [single.Low]), null)
                    : (new(key, $"{expression} between ? and ?", [single.Low, single.High]), null)
                : (null, $"'{value}' is not {what}.");
        }

        var (from, to) = (value[..dash], value[(dash + 1)..]);
        if (from.Length == 0 && to.Length == 0)
        {
            return (null, "a range needs at least one bound.");
        }

        var sql = new List<string>();
        var args = new List<object>();
        if (from.Length > 0)
        {
            if (bounds(from) is not { } low)
            {
                return (null, $"'{from}' is not {what}.");
            }

            sql.Add($"{expression} >= ?");
            args.Add(low.Low);
        }

        if (to.Length > 0)
        {
            if (bounds(to) is not { } high)
            {
                return (null, $"'{to}' is not {what}.");
            }

            sql.Add($"{expression} <= ?");
            args.Add(high.High);
        }

        return (new(key, string.Join(" and ", sql), [.. args]), null);
    }

    private static (string, string)? DateTimeBounds(string value)
    {
        var dot = value.IndexOf('.', StringComparison.Ordinal);
        var whole = dot < 0 ? value : value[..dot];
        var fraction = dot < 0 ? "" : value[(dot + 1)..];
        if (whole.Length is < 4 or > 14 || whole.Length % 2 != 0 || !whole.All(char.IsAsciiDigit)
            || fraction.Length > 6 || !fraction.All(char.IsAsciiDigit) || (dot >= 0 && whole.Length != 14))
        {
            return null;
        }

        // Stored DT text compares as text: the lower bound is the shortest text not above every value it
        // covers (no padded fraction: "…02" must not sort after a stored "…02"), the upper one the longest.
        return (whole.PadRight(14, '0') + (dot < 0 ? "" : "." + fraction), whole.PadRight(14, '9') + "." + fraction.PadRight(6, '9') + "~");
    }

    /// <summary>HH[MM[SS]] within 00-23, 00-59, 00-60 (a leap second), PS3.5 §6.2 TM.</summary>
    private static bool IsTime(string value) =>
        QidoAttributes.NormalizeTime(value, '0') is { } t
        && int.Parse(t[..2], CultureInfo.InvariantCulture) <= 23 && int.Parse(t[2..4], CultureInfo.InvariantCulture) <= 59
        && int.Parse(t[4..6], CultureInfo.InvariantCulture) <= 60;

    private static string DicomVRText(QidoKey key) => Dicom.DicomVRInfo.Code(key.VR);

    private static string[] Split(string value) =>
        value.Split([',', '\\'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A UID as PS3.5 §9.1 has it: digits and dots, no empty component, at most 64 characters.</summary>
    public static bool IsUid(string uid) =>
        uid.Length is > 0 and <= 64 && uid.All(c => c == '.' || char.IsAsciiDigit(c)) && !uid.StartsWith('.') && !uid.EndsWith('.')
        && !uid.Contains("..", StringComparison.Ordinal);

    /// <summary>Whether a matching value uses DICOM's wildcards, <c>*</c> or <c>?</c> (PS3.4 C.2.2.2.4).</summary>
    public static bool HasWildcard(string value) => value.IndexOfAny(['*', '?']) >= 0;

    /// <summary>DICOM wildcards to LIKE: <c>*</c> → <c>%</c>, <c>?</c> → <c>_</c>, LIKE's own metacharacters escaped.</summary>
    public static string Like(string value)
    {
        var pattern = new StringBuilder(value.Length + 4);
        foreach (var c in value)
        {
            pattern.Append(c switch
            {
                '*' => "%",
                '?' => "_",
                '%' or '_' or '\\' => "\\" + c,
                _ => c.ToString(),
            });
        }

        return pattern.ToString();
    }

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
