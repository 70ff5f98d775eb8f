using System.Text.Json;
using EventSourced.Web.Infrastructure;

namespace EventSourced.Web.Pacs;

/// <summary>Document e's JSON bodies: flat objects of string members.</summary>
public static class PacsBody
{
    /// <summary>The members of a JSON object, each a non-blank string of at most 1024 characters, among <paramref name="allowed"/>.</summary>
    public static (Dictionary<string, string> Fields, IResult? Error) Strings(JsonElement root, IReadOnlyList<string> allowed)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (fields, Problems.BadRequest("The request body must be a JSON object."));
        }

        foreach (var member in root.EnumerateObject())
        {
            if (!allowed.Contains(member.Name))
            {
                return (fields, Problems.BadRequest($"Unknown field '{member.Name}'; the fields are {string.Join(", ", allowed)}."));
            }

            if (member.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (member.Value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(member.Value.GetString()))
            {
                return (fields, Problems.BadRequest($"'{member.Name}' must be a non-empty string."));
            }

            var value = member.Value.GetString()!.Trim();
            if (value.Length > 1024)
            {
                return (fields, Problems.BadRequest($"'{member.Name}' is longer than 1024 characters."));
            }

            if (!fields.TryAdd(member.Name, value))
            {
                return (fields, Problems.BadRequest($"'{member.Name}' is given twice."));
            }
        }

        return (fields, null);
    }
}
