using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EventSourced.Domain.Common;

namespace EventSourced.Projections.Qido;

/// <summary>
/// Reading the instance's DICOM JSON (PS3.18 Annex F) for the QIDO read models: which attributes belong
/// to the study and series levels, single values, and the normalised forms used for matching. Plain
/// System.Text.Json: Projections does not reference the codec (docs/architecture.md, layers).
/// </summary>
public static class QidoAttributes
{
    /// <summary>
    /// Patient and study level: the Patient (PS3.3 C.7.1.1), General Study (C.7.2.1) and Patient Study
    /// (C.7.2.2) modules, the character set and time zone that qualify them, and InstitutionName, which
    /// the query API offers at study level.
    /// </summary>
    public static readonly IReadOnlySet<string> StudyLevel = new HashSet<string>(StringComparer.Ordinal)
    {
        Tags.SpecificCharacterSet, Tags.TimezoneOffsetFromUTC, Tags.PatientName, Tags.PatientID,
        Tags.IssuerOfPatientID, Tags.TypeOfPatientID, Tags.IssuerOfPatientIDQualifiersSequence, Tags.PatientBirthDate,
        Tags.PatientBirthTime, Tags.PatientSex, Tags.OtherPatientIDs, Tags.OtherPatientNames,
        Tags.OtherPatientIDsSequence, Tags.PatientAge, Tags.PatientSize, Tags.PatientWeight, Tags.EthnicGroup,
        Tags.PatientComments, Tags.StudyInstanceUID, Tags.StudyDate, Tags.StudyTime, Tags.AccessionNumber,
        Tags.IssuerOfAccessionNumberSequence, Tags.ReferringPhysicianName,
        Tags.ReferringPhysicianIdentificationSequence, Tags.StudyID, Tags.StudyDescription,
        Tags.ProcedureCodeSequence, Tags.PhysiciansOfRecord, Tags.PhysiciansOfRecordIdentificationSequence,
        Tags.NameOfPhysiciansReadingStudy, Tags.PhysiciansReadingStudyIdentificationSequence,
        Tags.AdmittingDiagnosesDescription, Tags.RequestingPhysician, Tags.RequestingService,
        Tags.RequestedProcedureDescription, Tags.InstitutionName,
    };

    /// <summary>Series level: the General Series module (PS3.3 C.7.3.1) and the equipment that made it.</summary>
    public static readonly IReadOnlySet<string> SeriesLevel = new HashSet<string>(StringComparer.Ordinal)
    {
        Tags.SpecificCharacterSet, Tags.TimezoneOffsetFromUTC, Tags.SeriesInstanceUID, Tags.Modality,
        Tags.SeriesNumber, Tags.SeriesDescription, Tags.SeriesDate, Tags.SeriesTime,
        Tags.PerformedProcedureStepStartDate, Tags.PerformedProcedureStepStartTime, Tags.PerformedProcedureStepID,
        Tags.PerformedProcedureStepDescription, Tags.PerformedProtocolCodeSequence, Tags.RequestAttributesSequence,
        Tags.BodyPartExamined, Tags.PatientPosition, Tags.Laterality, Tags.Manufacturer, Tags.ManufacturerModelName,
        Tags.StationName, Tags.InstitutionName, Tags.InstitutionalDepartmentName, Tags.PerformingPhysicianName,
        Tags.PerformingPhysicianIdentificationSequence, Tags.OperatorsName, Tags.OperatorIdentificationSequence,
        Tags.ReferencedPerformedProcedureStepSequence, Tags.RelatedSeriesSequence, Tags.FrameOfReferenceUID,
        Tags.AnatomicalOrientationType, Tags.SmallestPixelValueInSeries, Tags.LargestPixelValueInSeries,
        Tags.CommentsOnThePerformedProcedureStep,
    };

    /// <summary>The attributes of <paramref name="header"/> whose tag is in <paramref name="level"/>, as a new JSON object.</summary>
    /// <remarks>
    /// Written straight from the header's elements into one buffer and parsed once (it runs for every stored
    /// instance, at two levels). A later attribute whose upper-cased name repeats an earlier one replaces it in
    /// its place; a name is upper-cased only when it is not already.
    /// </remarks>
    public static JsonElement Select(JsonElement header, IReadOnlySet<string> level)
    {
        var selected = new List<(string Tag, JsonElement Value)>();
        if (header.ValueKind == JsonValueKind.Object)
        {
            foreach (var attribute in header.EnumerateObject())
            {
                var name = attribute.Name;
                var tag = name.AsSpan().ContainsAnyInRange('a', 'z') || !Ascii.IsValid(name) ? name.ToUpperInvariant() : name;
                if (!level.Contains(tag))
                {
                    continue;
                }

                var index = selected.FindIndex(s => s.Tag == tag);
                if (index < 0)
                {
                    selected.Add((tag, attribute.Value));
                }
                else
                {
                    selected[index] = (tag, attribute.Value);
                }
            }
        }

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (tag, value) in selected)
            {
                writer.WritePropertyName(tag);
                value.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        var reader = new Utf8JsonReader(buffer.WrittenSpan);
        return JsonElement.ParseValue(ref reader);
    }

    /// <summary>The first value of a string attribute, trimmed; PN gives its alphabetic group; null when absent or empty.</summary>
    public static string? First(JsonElement header, string tag)
    {
        if (!TryValues(header, tag, out var values, out var vr))
        {
            return null;
        }

        foreach (var value in values.EnumerateArray())
        {
            var text = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.Object when vr == "PN" && value.TryGetProperty("Alphabetic", out var a) => a.GetString(),
                _ => null,
            };
            return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
        }

        return null;
    }

    /// <summary>All groups (alphabetic, ideographic, phonetic) of all values of a PN attribute.</summary>
    public static IEnumerable<string> PersonNameGroups(JsonElement header, string tag)
    {
        if (!TryValues(header, tag, out var values, out _))
        {
            yield break;
        }

        foreach (var value in values.EnumerateArray())
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var group in value.EnumerateObject())
            {
                if (group.Value.ValueKind == JsonValueKind.String)
                {
                    yield return group.Value.GetString()!;
                }
            }
        }
    }

    public static int? Integer(JsonElement header, string tag) =>
        First(header, tag) is { } text && decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            && d == decimal.Truncate(d) && d is >= int.MinValue and <= int.MaxValue
            ? (int)d
            : null;

    /// <summary>DA as YYYYMMDD (the ACR-NEMA form YYYY.MM.DD has its dots removed); null unless 8 digits.</summary>
    public static string? Date(JsonElement header, string tag) => NormalizeDate(First(header, tag));

    public static string? NormalizeDate(string? text)
    {
        var s = text?.Replace(".", "", StringComparison.Ordinal);
        return s is { Length: 8 } && s.All(char.IsAsciiDigit) ? s : null;
    }

    /// <summary>TM as HHMMSS.FFFFFF, missing components as zeros (PS3.5 §6.2); null when not a time.</summary>
    public static string? Time(JsonElement header, string tag) => NormalizeTime(First(header, tag), '0');

    /// <summary>
    /// TM text padded to HHMMSS.FFFFFF with <paramref name="pad"/> (a lower range bound pads with 0,
    /// an upper one with 9 so "-1530" includes 15:30:59); the ACR-NEMA colons are removed.
    /// </summary>
    public static string? NormalizeTime(string? text, char pad)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var s = text.Trim().Replace(":", "", StringComparison.Ordinal);
        var dot = s.IndexOf('.', StringComparison.Ordinal);
        var whole = dot < 0 ? s : s[..dot];
        var fraction = dot < 0 ? "" : s[(dot + 1)..];
        if (whole.Length is not (2 or 4 or 6) || !whole.All(char.IsAsciiDigit) || fraction.Length > 6 || !fraction.All(char.IsAsciiDigit)
            || (dot >= 0 && whole.Length != 6))
        {
            return null;
        }

        var padHigh = pad == '9';
        var hhmmss = whole.Length switch
        {
            2 => whole + (padHigh ? "5959" : "0000"),
            4 => whole + (padHigh ? "59" : "00"),
            _ => whole,
        };
        return hhmmss + "." + fraction.PadRight(6, pad);
    }

    /// <summary>
    /// The fuzzy form of person names: every component word of every group, upper case, accents
    /// removed, each preceded by one space (" DOE JOHN"), so "starts a word" is a LIKE '% JOH%'.
    /// </summary>
    public static string? Fuzzy(IEnumerable<string> names)
    {
        var words = names.SelectMany(FuzzyWords).ToList();
        return words.Count == 0 ? null : string.Concat(words.Select(w => " " + w));
    }

    /// <summary>The words of a name or query value, upper case and without accents (split on ^, =, space, comma).</summary>
    public static IEnumerable<string> FuzzyWords(string text)
    {
        if (System.Text.Ascii.IsValid(text))
        {
            // No accents to strip: the common case skips the two Unicode normalisations.
            return text.ToUpperInvariant().Split(['^', '=', ' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        var decomposed = text.Normalize(NormalizationForm.FormD);
        var plain = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                plain.Append(c);
            }
        }

        return plain.ToString().Normalize(NormalizationForm.FormC).ToUpperInvariant()
            .Split(['^', '=', ' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static bool TryValues(JsonElement header, string tag, out JsonElement values, out string? vr)
    {
        values = default;
        vr = null;
        if (header.ValueKind != JsonValueKind.Object || !header.TryGetProperty(tag, out var attribute) || attribute.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        vr = attribute.TryGetProperty("vr", out var v) ? v.GetString() : null;
        return attribute.TryGetProperty("Value", out values) && values.ValueKind == JsonValueKind.Array;
    }
}
