using System.Text.Json;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Domain.Tests.Archive;

/// <summary>Document d's filing of a stored instance into a project's archive: given the study's events, when filing, then the event or the refusal.</summary>
public sealed class ArchiveFilingDecisionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private static readonly Actor Uploader = new("user", "archive-api");
    private static readonly Guid StreamId = Study.StreamId("t", "1.2.3");
    private static readonly ArchivePlacement Here = new("proj", "arch");

    private static StoredInstance Instance(string sop, string? patientId, string sopClass = "1.2.840.10008.5.1.4.1.1.2") => new(
        "1.2.3", "1.2.3.1", sop, sopClass, "1.2.840.10008.1.2.1",
        patientId is null
            ? JsonSerializer.SerializeToElement(new { })
            : JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["00100020"] = new { vr = "LO", Value = new[] { patientId } } }),
        new BlobRef("sha-" + sop, "sha1", 100), IngestChannel.ArchiveUpload, null, null);

    private static Study Stored(params StoredInstance[] instances)
    {
        var study = Study.Create(new InstanceStored(StreamId, instances[0], Uploader, T0));
        return instances.Skip(1).Aggregate(study, (s, i) => s.Apply(new InstanceStored(StreamId, i, Uploader, T0)));
    }

    [Fact]
    public void A_stored_instance_is_filed_under_its_patient_with_its_series_as_key()
    {
        var instance = Instance("1.2.3.1.1", "P1");
        var decision = ArchiveDecisions.File(Stored(instance), Here, instance, Uploader, T0);
        Assert.Null(decision.Rejection);
        Assert.Equal(new InstanceFiledInArchive(StreamId, "proj", "arch", "P1", "1.2.3", "1.2.3.1", "1.2.3.1.1", instance.SopClassUid, "1.2.3.1", Uploader, T0), decision.Event);
    }

    [Fact]
    public void An_InstanceStored_carrying_its_filing_stands_for_the_pair_of_events_written_before()
    {
        var first = Instance("1.2.3.1.1", "P1");
        var retina = Instance("1.2.3.1.7", "P1", "1.2.840.10008.5.1.4.1.1.77.1.5.1");
        var filed = ArchiveDecisions.File(Stored(first), Here, first, Uploader, T0).Event!;
        var carrying = new InstanceStored(StreamId, first, Uploader, T0).Carrying(filed)!;
        Assert.Equal<InstanceFiledInArchive>([filed], carrying.Filings());
        Assert.Equal(new InstanceFiling("proj", "arch", "P1"), carrying.FiledIn);

        // The study aggregate reads either shape to the same state.
        var pair = Stored(first).Apply(filed);
        var folded = Study.Create(carrying);
        Assert.Equal(pair.Archives["proj\narch"].SopInstanceUids, folded.Archives["proj\narch"].SopInstanceUids);
        Assert.Equal(pair.Archives["proj\narch"].SeriesKeys, folded.Archives["proj\narch"].SeriesKeys);
        Assert.Equal(pair.Archives["proj\narch"].PatientId, folded.Archives["proj\narch"].PatientId);

        var retinaFiled = ArchiveDecisions.File(folded.Apply(new InstanceStored(StreamId, retina, Uploader, T0)), Here, retina, Uploader, T0).Event!;
        Assert.Equal("1.2.3.1.7", new InstanceStored(StreamId, retina, Uploader, T0).Carrying(retinaFiled)!.Filings()[0].ArchiveSeriesUid);

        // A filing by another actor, at another time or of another instance is not carried: it stays an event of its own.
        Assert.Null(new InstanceStored(StreamId, first, new Actor("other", "stow-rs"), T0).Carrying(filed));
        Assert.Null(new InstanceStored(StreamId, first, Uploader, T0.AddSeconds(1)).Carrying(filed));
        Assert.Null(new InstanceStored(StreamId, retina, Uploader, T0).Carrying(filed));
        Assert.Empty(new InstanceStored(StreamId, first, Uploader, T0).Filings());
    }

    [Fact]
    public void A_retina_instance_is_keyed_by_its_SOPInstanceUID()
    {
        var instance = Instance("1.2.3.1.7", "P1", "1.2.840.10008.5.1.4.1.1.77.1.5.1");
        Assert.Equal("1.2.3.1.7", ArchiveDecisions.File(Stored(instance), Here, instance, Uploader, T0).Event!.ArchiveSeriesUid);
    }

    [Fact]
    public void Filing_again_into_the_same_archive_gives_no_event_and_another_archive_gets_its_own()
    {
        var instance = Instance("1.2.3.1.1", "P1");
        var filed = ArchiveDecisions.File(Stored(instance), Here, instance, Uploader, T0).Event!;
        var study = Stored(instance).Apply(filed);
        Assert.Equal(new FilingDecision(null, null), ArchiveDecisions.File(study, Here, instance, Uploader, T0));
        Assert.NotNull(ArchiveDecisions.File(study, new ArchivePlacement("proj", "other"), instance, Uploader, T0).Event);
    }

    [Fact]
    public void An_instance_without_PatientID_or_of_another_patient_than_its_study_in_that_archive_is_refused()
    {
        var first = Instance("1.2.3.1.1", "P1");
        var study = Stored(first).Apply(ArchiveDecisions.File(Stored(first), Here, first, Uploader, T0).Event!);

        var anonymous = Instance("1.2.3.1.2", null);
        Assert.Equal(RejectionKind.Invalid, ArchiveDecisions.File(study, Here, anonymous, Uploader, T0).Rejection?.Kind);
        var other = Instance("1.2.3.1.3", "P2");
        Assert.Equal(RejectionKind.Conflict, ArchiveDecisions.File(study, Here, other, Uploader, T0).Rejection?.Kind);
        Assert.Null(ArchiveDecisions.File(study, new ArchivePlacement("proj", "other"), other, Uploader, T0).Rejection);
    }

    [Fact]
    public void Results_and_forms_need_the_series_filed_in_that_archive_under_that_patient()
    {
        var instance = Instance("1.2.3.1.1", "P1");
        var study = Stored(instance).Apply(ArchiveDecisions.File(Stored(instance), Here, instance, Uploader, T0).Event!);
        Assert.Null(ArchiveSeriesDecisions.SeriesFiled(study, Here, "P1", "1.2.3.1"));
        Assert.Null(ArchiveSeriesDecisions.SeriesFiled(study, Here, null, "1.2.3.1"));
        Assert.NotNull(ArchiveSeriesDecisions.SeriesFiled(study, Here, "P2", "1.2.3.1"));
        Assert.NotNull(ArchiveSeriesDecisions.SeriesFiled(study, new ArchivePlacement("proj", "other"), "P1", "1.2.3.1"));
        Assert.NotNull(ArchiveSeriesDecisions.SeriesFiled(study, Here, "P1", "1.2.3.1.1"));
        Assert.NotNull(ArchiveSeriesDecisions.SeriesFiled(null, Here, "P1", "1.2.3.1"));
    }
}
