using System.Text.Json;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Tests.Common;

/// <summary>The PS3.15 Annex E basic profile on a DICOM JSON header: X removes, Z empties, D replaces, U keeps; private attributes go; sequences are walked.</summary>
public sealed class ConfidentialityProfileTests
{
    [Fact]
    public void Each_action_code_of_table_E_1_1_is_applied()
    {
        var header = JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            [Tags.PatientName] = new { vr = "PN", Value = new[] { new { Alphabetic = "DOE^JANE" } } },          // Z
            [Tags.OtherPatientIDs] = new { vr = "LO", Value = new[] { "OTHER-1" } },                             // X
            ["00120040"] = new { vr = "LO", Value = new[] { "SUBJECT-7" } },                                     // ClinicalTrialSubjectID: D
            [Tags.StudyInstanceUID] = new { vr = "UI", Value = new[] { "1.2.3" } },                              // U, kept (Retain UIDs)
            [Tags.Modality] = new { vr = "CS", Value = new[] { "CT" } },                                         // not listed: kept
            ["00091010"] = new { vr = "LO", Value = new[] { "PRIVATE DOE" } },                                   // private: removed
            ["00081140"] = new { vr = "SQ", Value = new[] { new Dictionary<string, object>                      // ReferencedImageSequence (X/Z/U*): kept, walked
            {
                ["00081155"] = new { vr = "UI", Value = new[] { "1.2.3.4" } },
                [Tags.PatientName] = new { vr = "PN", Value = new[] { new { Alphabetic = "NESTED^DOE" } } },
            } } },
        });

        var erased = ConfidentialityProfile.Apply(header);

        Assert.Equal("""{"vr":"PN"}""", erased.GetProperty(Tags.PatientName).GetRawText());
        Assert.False(erased.TryGetProperty(Tags.OtherPatientIDs, out _));
        Assert.Equal("""{"vr":"LO","Value":["ERASED"]}""", erased.GetProperty("00120040").GetRawText());
        Assert.Equal("1.2.3", erased.GetProperty(Tags.StudyInstanceUID).GetProperty("Value")[0].GetString());
        Assert.Equal("CT", erased.GetProperty(Tags.Modality).GetProperty("Value")[0].GetString());
        Assert.False(erased.TryGetProperty("00091010", out _));
        var item = erased.GetProperty("00081140").GetProperty("Value")[0];
        Assert.Equal("1.2.3.4", item.GetProperty("00081155").GetProperty("Value")[0].GetString());
        Assert.Equal("""{"vr":"PN"}""", item.GetProperty(Tags.PatientName).GetRawText());
        Assert.DoesNotContain("DOE", erased.GetRawText());

        // Idempotent: a masked event erased again (the feed's earlier entries on a rebuild) is unchanged.
        Assert.Equal(erased.GetRawText(), ConfidentialityProfile.Apply(erased).GetRawText());
    }

    [Theory]
    [InlineData(0x00100010u, ProfileAction.Empty)]   // PatientName: Z
    [InlineData(0x00101000u, ProfileAction.Remove)]  // OtherPatientIDs: X
    [InlineData(0x00080080u, ProfileAction.Dummy)]   // InstitutionName: X/Z/D, resolved to D
    [InlineData(0x0020000Du, ProfileAction.Keep)]    // StudyInstanceUID: U, kept
    [InlineData(0x7FE00010u, ProfileAction.Keep)]    // PixelData: not listed
    [InlineData(0x60003000u, ProfileAction.Remove)]  // OverlayData (60xx,3000)
    [InlineData(0x50020010u, ProfileAction.Remove)]  // Curve data (50xx,xxxx)
    [InlineData(0x00291010u, ProfileAction.Remove)]  // a private attribute
    public void Actions_of_single_tags_and_ranges(uint tag, ProfileAction expected) =>
        Assert.Equal(expected, ConfidentialityProfile.ActionFor(tag));
}
