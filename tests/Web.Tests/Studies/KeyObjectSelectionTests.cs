using EventSourced.Application.Studies.KeyObjects;
using EventSourced.Dicom;

namespace EventSourced.Web.Tests.Studies;

/// <summary>The KOS builder alone (a pure function), read back by DCMTK and pydicom.</summary>
public sealed class KeyObjectSelectionTests
{
    private static KeyObjectRequest Request(KeyObjectTitle title) => new(
        new KeyObjectStudy("1.2.3") { PatientName = "Müller^Jörg", PatientId = "P1", AccessionNumber = "A1", StudyDate = "20260102" },
        [
            new KeyObjectReference("1.2.3.1", "1.2.840.10008.5.1.4.1.1.2", "1.2.3.1.1", IsImage: true),
            new KeyObjectReference("1.2.3.1", "1.2.840.10008.5.1.4.1.1.2", "1.2.3.1.2", IsImage: true),
            new KeyObjectReference("1.2.3.2", "1.2.840.10008.5.1.4.1.1.88.11", "1.2.3.2.1", IsImage: false),
        ],
        title, "1.2.3.9.1", "1.2.3.9", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    [Fact]
    public void A_manifest_references_every_instance_in_the_evidence_and_the_content_and_parses_with_dcmtk_and_pydicom()
    {
        var bytes = KeyObjectSelection.Build(Request(KeyObjectTitle.Manifest));

        var dump = KeyObjectOracle.Dump(bytes);
        Assert.Contains("[113030]", dump);
        Assert.Contains("[Manifest]", dump);
        Assert.Contains("[IMAGE]", dump);
        Assert.Contains("[COMPOSITE]", dump);
        Assert.Contains("Müller^Jörg", dump); // ISO_IR 192 declared and honoured
        var references = KeyObjectOracle.ReferencedInstances(bytes);
        Assert.Equal(["1.2.3.1.1", "1.2.3.1.2", "1.2.3.2.1"], references.Evidence);
        Assert.Equal(references.Evidence, references.Content);
        Assert.Equal("113030^DCM^Manifest", references.Title);
        Assert.Equal("1.2.3.9.1", references.SopInstanceUid);
    }

    [Fact]
    public void The_same_request_gives_the_same_bytes_and_a_rejection_note_is_titled_as_iocm_says()
    {
        var request = Request(KeyObjectTitle.RejectedForQualityReasons);
        Assert.Equal(KeyObjectSelection.Build(request), KeyObjectSelection.Build(request));
        Assert.Equal("113001^DCM^Rejected for Quality Reasons", KeyObjectOracle.ReferencedInstances(KeyObjectSelection.Build(request)).Title);
        var evidence = KeyObjectSelection.BuildDataset(request).GetSequence(DicomTags.CurrentRequestedProcedureEvidenceSequence);
        Assert.Equal(["1.2.3.1", "1.2.3.2"], Assert.Single(evidence).GetSequence(DicomTags.ReferencedSeriesSequence).Select(s => s.GetString(DicomTags.SeriesInstanceUID)));
    }

    [Fact]
    public void A_kos_without_references_is_refused()
    {
        var empty = Request(KeyObjectTitle.Manifest) with { References = [] };
        Assert.Throws<ArgumentException>(() => KeyObjectSelection.Build(empty));
    }
}
