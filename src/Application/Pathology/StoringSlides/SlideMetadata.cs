using System.Text.Json;
using EventSourced.Application.Common;
using EventSourced.Dicom;

namespace EventSourced.Application.Pathology.StoringSlides;

/// <summary>One level of document e's specimen → block → slide hierarchy; every field optional.</summary>
public sealed record SlideHierarchyLevel(string? Alias, string? Identifier, string? Procedure, string? BodySite, string? StainCode);

/// <summary>An attribute the metadata names: a keyword path (sequence keywords, then the element's) and its values.</summary>
public sealed record SlideAttribute(IReadOnlyList<DicomDictionaryEntry> Path, IReadOnlyList<string> Values)
{
    public DicomDictionaryEntry Element => Path[^1];
}

/// <summary>
/// Document e's metadata part: <c>attributes</c> (DICOM keywords, <c>/</c> nesting sequences) and
/// <c>hierarchy</c> (specimen, block, slide). Parsing checks every keyword against the dictionary and every
/// value against its VR, so a bad request is answered 400 naming each problem before anything is stored.
/// </summary>
public sealed record SlideMetadata(
    IReadOnlyList<SlideAttribute> Attributes, SlideHierarchyLevel? Specimen, SlideHierarchyLevel? Block, SlideHierarchyLevel? Slide)
{
    /// <summary>The attributes document e makes mandatory.</summary>
    public static readonly IReadOnlyList<string> Mandatory = ["PatientID", "AccessionNumber", "ContainerIdentifier"];

    public string? Top(string keyword) =>
        Attributes.FirstOrDefault(a => a.Path.Count == 1 && a.Element.Keyword == keyword)?.Values.FirstOrDefault() is { Length: > 0 } v ? v : null;

    public static (SlideMetadata? Metadata, IReadOnlyList<string> Errors) Parse(ReadOnlySpan<byte> json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            return (null, [$"The metadata part is not valid JSON: {e.Message}"]);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, ["The metadata part must be a JSON object with 'attributes' and 'hierarchy'."]);
            }

            var errors = new List<string>();
            var attributes = new List<SlideAttribute>();
            if (!root.TryGetProperty("attributes", out var attributesJson) || attributesJson.ValueKind != JsonValueKind.Object)
            {
                errors.Add("'attributes' must be an object of DICOM keywords and values.");
            }
            else
            {
                foreach (var member in attributesJson.EnumerateObject())
                {
                    if (ParseAttribute(member, errors) is { } attribute)
                    {
                        attributes.Add(attribute);
                    }
                }
            }

            var hierarchy = root.TryGetProperty("hierarchy", out var h) ? h : default;
            if (hierarchy.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.Object))
            {
                errors.Add("'hierarchy' must be an object with 'specimen', 'block' and 'slide'.");
            }

            var metadata = new SlideMetadata(
                attributes,
                Level(hierarchy, "specimen", errors),
                Level(hierarchy, "block", errors),
                Level(hierarchy, "slide", errors));
            foreach (var keyword in Mandatory.Where(k => metadata.Top(k) is null))
            {
                errors.Add($"'{keyword}' is mandatory in 'attributes'.");
            }

            return errors.Count == 0 ? (metadata, []) : (null, errors);
        }
    }

    private static SlideAttribute? ParseAttribute(JsonProperty member, List<string> errors)
    {
        var names = member.Name.Split('/');
        var path = new List<DicomDictionaryEntry>(names.Length);
        for (var i = 0; i < names.Length; i++)
        {
            if (DicomDictionary.TagOf(names[i]) is not { } tag || DicomDictionary.Lookup(tag) is not { } entry)
            {
                errors.Add($"'{member.Name}': '{names[i]}' is not a DICOM keyword.");
                return null;
            }

            var last = i == names.Length - 1;
            if (!last && entry.VR != DicomVR.SQ)
            {
                errors.Add($"'{member.Name}': '{names[i]}' is not a sequence, so nothing can be nested under it.");
                return null;
            }

            if (last && !DicomVRInfo.IsString(entry.VR))
            {
                errors.Add($"'{member.Name}': {DicomVRInfo.Code(entry.VR)} attributes cannot be given as metadata (name an element inside a sequence with '/').");
                return null;
            }

            path.Add(entry);
        }

        var values = new List<string>();
        var json = member.Value;
        foreach (var value in json.ValueKind == JsonValueKind.Array ? json.EnumerateArray() : Enumerable.Repeat(json, 1))
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    values.Add(value.GetString()!);
                    break;
                case JsonValueKind.Number:
                    values.Add(value.GetRawText());
                    break;
                case JsonValueKind.Null:
                    values.Add("");
                    break;
                default:
                    errors.Add($"'{member.Name}': values are strings, numbers or arrays of them.");
                    return null;
            }
        }

        var vr = path[^1].VR;
        foreach (var value in values)
        {
            if (SlideValues.Problem(vr, value) is { } problem)
            {
                errors.Add($"'{member.Name}': {problem}");
                return null;
            }
        }

        if (values.Count > 1 && !DicomVRInfo.IsMultiValuedString(vr))
        {
            errors.Add($"'{member.Name}': {DicomVRInfo.Code(vr)} takes one value.");
            return null;
        }

        return new SlideAttribute(path, values);
    }

    private static SlideHierarchyLevel? Level(JsonElement hierarchy, string name, List<string> errors)
    {
        if (hierarchy.ValueKind != JsonValueKind.Object || !hierarchy.TryGetProperty(name, out var level) || level.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (level.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"'hierarchy.{name}' must be an object.");
            return null;
        }

        string? Text(JsonElement owner, string field, string where)
        {
            if (!owner.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            // Identifiers and aliases become LO values; procedures and body sites become text items (UT).
            var vr = field is "procedure" or "bodySite" ? DicomVR.ST : DicomVR.LO;
            if (value.ValueKind != JsonValueKind.String || SlideValues.Problem(vr, value.GetString()!) is not null)
            {
                errors.Add($"'{where}.{field}' must be a string of at most {(vr == DicomVR.LO ? 64 : 1024)} characters without control characters or backslashes.");
                return null;
            }

            var text = value.GetString()!;
            return text.Length == 0 ? null : text;
        }

        var where = $"hierarchy.{name}";
        string? stain = null;
        if (level.TryGetProperty("stain", out var stainJson) && stainJson.ValueKind != JsonValueKind.Null)
        {
            if (stainJson.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"'{where}.stain' must be an object with 'code'.");
            }
            else
            {
                stain = Text(stainJson, "code", $"{where}.stain");
            }
        }

        return new SlideHierarchyLevel(Text(level, "alias", where), Text(level, "identifier", where), Text(level, "procedure", where), Text(level, "bodySite", where), stain);
    }
}

/// <summary>Checks of a string value against its VR (PS3.5 §6.2): the maximum length and the characters it allows.</summary>
public static class SlideValues
{
    public static string? Problem(DicomVR vr, string value)
    {
        if (value.Any(c => char.IsControl(c) && c is not ('\r' or '\n' or '\t' or '\f' or '\u001b')))
        {
            return "control characters are not allowed.";
        }

        if (DicomVRInfo.IsMultiValuedString(vr) && value.Contains('\\'))
        {
            return "a backslash separates values; give several values as a JSON array.";
        }

        if (MaxLength(vr) is { } max && value.Length > max)
        {
            return $"{DicomVRInfo.Code(vr)} values are at most {max} characters.";
        }

        return value.Length == 0 ? null : vr switch
        {
            DicomVR.UI when !DicomValueRules.IsValidUid(value) => $"'{value}' is not a valid UID.",
            DicomVR.DA when !DicomValueRules.IsValidDate(value) => $"'{value}' is not a date (YYYYMMDD).",
            DicomVR.TM when !DicomValueRules.IsValidTime(value) => $"'{value}' is not a time (HHMMSS.FFFFFF).",
            DicomVR.PN when !DicomValueRules.IsValidPersonName(value) => $"'{value}' is not a person name.",
            DicomVR.CS when !DicomValueRules.IsValidCodeString(value) => $"'{value}' is not a code string (upper-case letters, digits, space, underscore).",
            DicomVR.IS when !long.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign | System.Globalization.NumberStyles.AllowLeadingWhite | System.Globalization.NumberStyles.AllowTrailingWhite, System.Globalization.CultureInfo.InvariantCulture, out _) => $"'{value}' is not an integer.",
            DicomVR.DS when !double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _) => $"'{value}' is not a decimal.",
            _ => null,
        };
    }

    private static int? MaxLength(DicomVR vr) => vr switch
    {
        DicomVR.AE => 16,
        DicomVR.AS => 4,
        DicomVR.CS => 16,
        DicomVR.DA => 8,
        DicomVR.DS => 16,
        DicomVR.DT => 26,
        DicomVR.IS => 12,
        DicomVR.LO => 64,
        DicomVR.LT => 10240,
        DicomVR.PN => 324,
        DicomVR.SH => 16,
        DicomVR.ST => 1024,
        DicomVR.TM => 14,
        DicomVR.UI => 64,
        _ => 65536,
    };
}
