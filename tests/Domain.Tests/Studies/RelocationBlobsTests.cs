using System.Text.Json;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Domain.Tests.Studies;

/// <summary>What a relocation carries: every file the study holds now, whichever event brought it there.</summary>
public sealed class RelocationBlobsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);
    private static readonly Actor By = new("operator", "test");
    private static readonly Guid Here = Study.StreamId("t", "1.2.3");

    private static StoredInstance Instance(string sop, string sha, string study = "1.2.3", string series = "1.2.3.1") => new(
        study, series, sop, "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1",
        JsonSerializer.SerializeToElement(new { }), new BlobRef(sha, "sha1-" + sha, 100), IngestChannel.StowRs, "CT1", null);

    [Fact]
    public void Received_replaced_and_slide_files_are_carried_current_ones_first()
    {
        var blobs = StudyRelocations.BlobsOf([
            new InstanceStored(Here, Instance("1.2.3.1.1", "a"), By, T0),
            new InstanceReplaced(Here, Instance("1.2.3.1.1", "b"), "a", By, T0),
            new SlideFileStored(Here, "1.2.3", "1.2.3.1", "1.2.3.1.1", "C-1",
                new SlideFile("slide.svs", SlideFileKind.SingleFile, new BlobRef("s", "sha1-s", 1000), null, null), IngestChannel.PathologyUpload, "SCANNER1", By, T0),
        ]);
        Assert.Equal(["b", "s", "a"], blobs);
    }

    [Fact]
    public void A_series_that_arrived_is_carried_and_one_that_left_is_not()
    {
        var blobs = StudyRelocations.BlobsOf([
            new InstanceStored(Here, Instance("1.2.3.1.1", "a"), By, T0),
            new InstanceStored(Here, Instance("1.2.3.2.1", "left", series: "1.2.3.2"), By, T0),
            new SeriesRefiledOut(Here, "1.2.3", "1.2.4", ["1.2.3.2"], [new InstanceHidden(Here, "1.2.3.2", "1.2.3.2.1")], [],
                SeriesRefilingReason.Reconciled, Guid.NewGuid(), By, T0),
            new SeriesRefiledIn(Here, "1.2.3", "1.2.4", ["1.2.4.1"], JsonSerializer.SerializeToElement(new { }), null,
                [new InstanceRefiled(Here, Instance("1.2.4.1.1", "came", study: "1.2.4", series: "1.2.4.1"), "1.2.4", T0)], [],
                SeriesRefilingReason.Swapped, Guid.NewGuid(), By, T0),
        ]);
        Assert.Equal(["a", "came"], blobs);
    }

    [Fact]
    public void An_erased_original_and_a_purged_deletion_are_not_carried_a_restored_one_is()
    {
        var deletion = Guid.NewGuid();
        var blobs = StudyRelocations.BlobsOf([
            new InstanceStored(Here, Instance("1.2.3.1.1", "original"), By, T0),
            new InstanceErased(Here, Instance("1.2.3.1.1", "rewritten"), "original", [], Guid.NewGuid(), By, T0),
            new InstanceStored(Here, Instance("1.2.3.1.2", "purged"), By, T0),
            new DeletedContentPurged(Here, deletion, ["purged"], By, T0),
            new InstanceStored(Here, Instance("1.2.3.1.3", "restored"), By, T0),
            new DeletedContentRestored(Here, Guid.NewGuid(), [new InstanceStored(Here, Instance("1.2.3.1.3", "restored"), By, T0)], [], "undo", By, T0),
        ]);
        Assert.Equal(["rewritten", "restored"], blobs);
    }
}
