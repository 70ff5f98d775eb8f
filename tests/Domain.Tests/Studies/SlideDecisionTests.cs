using System.Text.Json;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Domain.Tests.Studies;

public sealed class SlideDecisionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);
    private static readonly Actor Scanner = new("scanner", "pacs-api");
    private static readonly Guid StreamId = Study.StreamId("t", "1.2.3");

    private static SlideFile File(string sha) => new("s.svs", SlideFileKind.SingleFile, new BlobRef(sha, "sha1-" + sha, 10), null, null);

    private static Study Stored() => Study.Create(new InstanceStored(StreamId,
        new StoredInstance("1.2.3", "1.2.3.1", "1.2.3.1.1", "1.2.826.0.1.3680043.2.619.20220407.1", "1.2.840.10008.1.2.1",
            JsonSerializer.SerializeToElement(new { }), new BlobRef("dicom", "sha1-dicom", 100), IngestChannel.PathologyUpload, "SCANNER1", null),
        Scanner, T0));

    private static (SlideFileStored? Event, Rejection? Rejection) Store(Study study, SlideFile file) =>
        SlideDecisions.Store(study, "1.2.3.1", "1.2.3.1.1", "BOX-1", file, IngestChannel.PathologyUpload, "SCANNER1", Scanner, T0);

    [Fact]
    public void A_slide_file_for_an_instance_without_one_is_kept()
    {
        var (stored, rejection) = Store(Stored(), File("a"));
        Assert.Null(rejection);
        Assert.Equal(new SlideFileStored(StreamId, "1.2.3", "1.2.3.1", "1.2.3.1.1", "BOX-1", File("a"), IngestChannel.PathologyUpload, "SCANNER1", Scanner, T0), stored);
    }

    [Fact]
    public void The_same_file_again_decides_nothing_and_another_file_is_a_conflict()
    {
        var study = Stored();
        study = study.Apply(Store(study, File("a")).Event!);

        Assert.Equal((null, null), Store(study, File("a")));
        var (stored, rejection) = Store(study, File("b"));
        Assert.Null(stored);
        Assert.Equal(RejectionKind.Conflict, rejection!.Kind);
        Assert.Equal("a", study.SlideFiles["1.2.3.1.1"]);
    }
}
