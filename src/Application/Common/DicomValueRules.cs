using System.Globalization;
using FluentValidation;

namespace EventSourced.Application.Common;

/// <summary>
/// Value representation rules of PS3.5 §6.2 for values that arrive as JSON strings in the vendor
/// dialects. Strict where the standard is strict: a value we accept must be writable into a valid
/// DICOM dataset later (worklist, coerced headers).
/// </summary>
public static class DicomValueRules
{
    /// <summary>UI: at most 64 characters, digits and dots, no empty component, no leading zero (PS3.5 §9.1).</summary>
    public static bool IsValidUid(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 64)
        {
            return false;
        }

        foreach (var component in value.Split('.'))
        {
            if (component.Length == 0 || !component.All(char.IsAsciiDigit) || (component.Length > 1 && component[0] == '0'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>DA: YYYYMMDD, a real calendar date (PS3.5 Table 6.2-1).</summary>
    public static bool IsValidDate(string? value) =>
        value is { Length: 8 } && value.All(char.IsAsciiDigit)
        && DateOnly.TryParseExact(value, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    /// <summary>TM: HH[MM[SS[.F{1,6}]]], hours 00-23, minutes 00-59, seconds 00-60 (leap second) (PS3.5 Table 6.2-1).</summary>
    public static bool IsValidTime(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 14)
        {
            return false;
        }

        var dot = value.IndexOf('.');
        var main = dot < 0 ? value : value[..dot];
        if (main.Length is not (2 or 4 or 6) || !main.All(char.IsAsciiDigit))
        {
            return false;
        }

        if (dot >= 0)
        {
            var fraction = value[(dot + 1)..];
            if (main.Length != 6 || fraction.Length is < 1 or > 6 || !fraction.All(char.IsAsciiDigit))
            {
                return false;
            }
        }

        static int Part(string s, int i) => ((s[i] - '0') * 10) + (s[i + 1] - '0');
        return Part(main, 0) <= 23
            && (main.Length < 4 || Part(main, 2) <= 59)
            && (main.Length < 6 || Part(main, 4) <= 60);
    }

    /// <summary>Text VRs (SH, LO, AE, …): bounded length, no backslash (the value delimiter), no control characters but ESC.</summary>
    public static bool IsValidText(string? value, int maxLength) =>
        value is not null && value.Length <= maxLength && value.All(c => c != '\\' && (c == '\u001b' || !char.IsControl(c)));

    /// <summary>CS: at most 16 of upper-case letters, digits, space and underscore.</summary>
    public static bool IsValidCodeString(string? value) =>
        value is { Length: > 0 and <= 16 } && value.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c is ' ' or '_');

    /// <summary>PN: up to three component groups (alphabetic=ideographic=phonetic), each at most 64 characters of up to five components.</summary>
    public static bool IsValidPersonName(string? value)
    {
        if (value is null)
        {
            return false;
        }

        var groups = value.Split('=');
        return groups.Length <= 3 && groups.All(g => g.Length <= 64 && g.Split('^').Length <= 5 && IsValidText(g, 64));
    }

    public static IRuleBuilderOptions<T, string?> Uid<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(IsValidUid).WithMessage("'{PropertyName}' must be a DICOM UID: at most 64 characters of digits and dots, components without leading zeros.");

    public static IRuleBuilderOptions<T, string?> Date<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(IsValidDate).WithMessage("'{PropertyName}' must be a DICOM date (DA): YYYYMMDD.");

    public static IRuleBuilderOptions<T, string?> Time<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(IsValidTime).WithMessage("'{PropertyName}' must be a DICOM time (TM): HH, HHMM, HHMMSS or HHMMSS.FFFFFF.");

    public static IRuleBuilderOptions<T, string?> PersonName<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(IsValidPersonName).WithMessage("'{PropertyName}' must be a DICOM person name (PN): at most three '='-separated groups of at most 64 characters and five '^'-separated components.");

    public static IRuleBuilderOptions<T, string?> ShortString<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(v => IsValidText(v, 16)).WithMessage("'{PropertyName}' must be a DICOM short string (SH): at most 16 characters, no backslash or control characters.");

    public static IRuleBuilderOptions<T, string?> LongString<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(v => IsValidText(v, 64)).WithMessage("'{PropertyName}' must be a DICOM long string (LO): at most 64 characters, no backslash or control characters.");

    public static IRuleBuilderOptions<T, string?> ApplicationEntity<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(v => IsValidText(v, 16) && !string.IsNullOrWhiteSpace(v)).WithMessage("'{PropertyName}' must be a DICOM AE title: 1 to 16 characters, no backslash or control characters.");

    public static IRuleBuilderOptions<T, string?> CodeString<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(IsValidCodeString).WithMessage("'{PropertyName}' must be a DICOM code string (CS): at most 16 upper-case letters, digits, spaces or underscores.");
}
