using System.Text.Json;
using EventSourced.Application.Common;

namespace EventSourced.Web.Pacs;

/// <summary>The DICOM value representation a document e correction field must satisfy (PS3.5 §6.2).</summary>
public enum PacsFieldKind
{
    /// <summary>Free text (userName, operatorName): up to 64 characters, no control characters.</summary>
    Text,
    PatientId,
    PersonName,
    Date,
    Sex,
    Uid,
    ShortText,
}

public sealed record PacsField(string Name, PacsFieldKind Kind, bool Mandatory);

/// <summary>
/// Reads the flat JSON bodies of document e's patient and study calls: every field a string, named as
/// the document names it (matched without regard to case), mandatory ones present and non-empty,
/// and no field the document does not list (a typo must not pass as "absent"). Errors name the field.
/// </summary>
public static class PacsCorrectionRequest
{
    public static (Dictionary<string, string> Values, List<(string Field, string Message)> Errors) Read(JsonElement body, IReadOnlyList<PacsField> fields)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var errors = new List<(string, string)>();
        foreach (var property in body.EnumerateObject())
        {
            var field = fields.FirstOrDefault(f => f.Name.Equals(property.Name, StringComparison.OrdinalIgnoreCase));
            if (field is null)
            {
                errors.Add((property.Name, $"'{property.Name}' is not a field of this call."));
                continue;
            }

            if (values.ContainsKey(field.Name))
            {
                errors.Add((field.Name, $"'{field.Name}' is given twice."));
                continue;
            }

            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Null:
                    continue;
                case JsonValueKind.String:
                    var text = property.Value.GetString()!.Trim();
                    if (text.Length == 0)
                    {
                        continue;
                    }

                    if (Invalid(field.Kind, text) is { } message)
                    {
                        errors.Add((field.Name, $"'{field.Name}' {message}"));
                    }
                    else
                    {
                        values[field.Name] = text;
                    }

                    break;
                default:
                    errors.Add((field.Name, $"'{field.Name}' must be a string."));
                    break;
            }
        }

        foreach (var field in fields.Where(f => f.Mandatory && !values.ContainsKey(f.Name) && !errors.Any(e => e.Item1 == f.Name)))
        {
            errors.Add((field.Name, $"'{field.Name}' is mandatory."));
        }

        return (values, errors);
    }

    private static string? Invalid(PacsFieldKind kind, string value) => kind switch
    {
        PacsFieldKind.Text => DicomValueRules.IsValidText(value, 64) ? null : "must be at most 64 characters without control characters.",
        PacsFieldKind.ShortText => DicomValueRules.IsValidText(value, 16) ? null : "must be at most 16 characters without control characters.",
        PacsFieldKind.PatientId => DicomValueRules.IsValidText(value, 64) && !value.Contains('\\') ? null : "must be a DICOM LO value (at most 64 characters, no backslash).",
        PacsFieldKind.PersonName => DicomValueRules.IsValidPersonName(value) ? null : "must be a DICOM person name (e.g. DOE^JOHN).",
        PacsFieldKind.Date => DicomValueRules.IsValidDate(value) ? null : "must be a date YYYYMMDD.",
        PacsFieldKind.Sex => value is "M" or "F" or "O" ? null : "must be M, F or O.",
        PacsFieldKind.Uid => DicomValueRules.IsValidUid(value) ? null : "must be a DICOM UID.",
        _ => null,
    };
}
