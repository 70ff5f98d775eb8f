using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EventSourced.Domain.Common;

/// <summary>What the Basic Application Level Confidentiality Profile does with an attribute (PS3.15 E.1.1, action codes).</summary>
public enum ProfileAction
{
    /// <summary>Not listed, or <c>U</c>/<c>K</c>: kept as is (UIDs are kept: Retain UIDs Option, PS3.15 E.3.9).</summary>
    Keep,

    /// <summary><c>X</c>: removed.</summary>
    Remove,

    /// <summary><c>Z</c>: kept with a zero-length value.</summary>
    Empty,

    /// <summary><c>D</c>: replaced with a dummy value of its VR.</summary>
    Dummy,
}

/// <summary>
/// The Basic Application Level Confidentiality Profile (PS3.15 Annex E, Table E.1-1) with the Retain UIDs
/// Option: what an erasure removes from a stored instance and from the DICOM JSON of its header. Private
/// attributes are removed (the profile without the Retain Safe Private Option); pixel data is kept
/// (no Clean Pixel Data Option: burned-in text is not detected). Sequences the profile keeps are walked:
/// the profile applies to the attributes of their items as well.
/// </summary>
public static partial class ConfidentialityProfile
{
    /// <summary>The dummy value an erased text attribute gets (a <c>D</c> action).</summary>
    public const string DummyText = "ERASED";

    public static ProfileAction ActionFor(uint tag)
    {
        var group = (ushort)(tag >> 16);
        var element = (ushort)tag;
        if (BasicProfile.TryGetValue(tag, out var action))
        {
            return action;
        }

        // Private attributes (odd groups, except the group length and private creators' own group 1, 3, 5, 7, FFFF are not data).
        if ((group & 1) == 1 && group > 0x0008)
        {
            return ProfileAction.Remove;
        }

        // Curve Data (50xx,xxxx), Overlay Data (60xx,3000), Overlay Comments (60xx,4000).
        return (group & 0xFF00) == 0x5000 || ((group & 0xFF00) == 0x6000 && element is 0x3000 or 0x4000)
            ? ProfileAction.Remove
            : ProfileAction.Keep;
    }

    /// <summary>The dummy value of a VR (null: the attribute gets a zero-length value instead, e.g. binary VRs).</summary>
    public static string? DummyValue(string vr) => vr switch
    {
        "PN" or "LO" or "SH" or "LT" or "ST" or "UT" or "UC" or "CS" or "AE" => DummyText,
        "DA" => "19000101",
        "TM" => "000000",
        "DT" => "19000101000000",
        "AS" => "000Y",
        "IS" or "DS" => "0",
        _ => null,
    };

    /// <summary>The DICOM JSON of a header (PS3.18 Annex F) with the profile applied, nested sequence items included.</summary>
    public static JsonElement Apply(JsonElement header)
    {
        var node = HeaderJson.Object(header);
        Apply(node);
        return HeaderJson.Element(node);
    }

    /// <summary>PS3.18 F.2: a PN value is an object of component groups, IS/DS values are numbers.</summary>
    private static JsonNode DummyJson(string vr, string dummy) => vr switch
    {
        "PN" => new JsonObject { ["Alphabetic"] = dummy },
        "IS" or "DS" => JsonValue.Create(0),
        _ => JsonValue.Create(dummy),
    };

    private static void Apply(JsonObject dataset)
    {
        foreach (var (key, value) in dataset.ToList())
        {
            if (!uint.TryParse(key, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var tag) || value is not JsonObject attribute)
            {
                continue;
            }

            var vr = attribute["vr"]?.GetValue<string>() ?? "";
            switch (ActionFor(tag))
            {
                case ProfileAction.Remove:
                    dataset.Remove(key);
                    break;
                case ProfileAction.Empty:
                    dataset[key] = new JsonObject { ["vr"] = vr };
                    break;
                case ProfileAction.Dummy when vr != "SQ":
                    dataset[key] = DummyValue(vr) is { } dummy
                        ? new JsonObject { ["vr"] = vr, ["Value"] = new JsonArray(DummyJson(vr, dummy)) }
                        : new JsonObject { ["vr"] = vr };
                    break;
                default:
                    if (vr == "SQ" && attribute["Value"] is JsonArray items)
                    {
                        foreach (var item in items.OfType<JsonObject>())
                        {
                            Apply(item);
                        }
                    }

                    break;
            }
        }
    }
}
