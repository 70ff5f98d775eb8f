using System.Text.Json;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Domain.Tests.Studies;

/// <summary>One event for a request's new instances: which instances go together, and what readers see of it.</summary>
public sealed class InstancesStoredTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);
    private static readonly Actor Modality = new("ct1", "stow-rs");
    private static readonly Guid StreamId = Study.StreamId("t", "1.2.3");
    private static readonly InstanceFiling Filing = new("project", "archive", "P1");

    private static InstanceStored Stored(string sop, Actor? by = null, DateTimeOffset? at = null, InstanceFiling? filed = null) =>
        new(StreamId, new StoredInstance(
            "1.2.3", "1.2.3.1", sop, "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1",
            JsonSerializer.SerializeToElement(new { }), new BlobRef(sop.PadLeft(64, '0'), "sha1", 100), IngestChannel.StowRs, "CT1", "CTSTATION"),
            by ?? Modality, at ?? T0)
        {
            FiledIn = filed,
        };

    [Fact]
    public void Instances_stored_together_and_filed_alike_become_one_event_whose_children_are_the_instances_in_order()
    {
        var stored = new[] { Stored("1"), Stored("2"), Stored("3") }.Select(s => s with { FiledIn = Filing }).ToList();

        var batch = Assert.IsType<InstancesStored>(Assert.Single(InstancesStored.Batched(stored)));

        Assert.Equal(["1", "2", "3"], batch.Instances.Select(i => i.SopInstanceUid));
        Assert.Equal(Filing, batch.FiledIn);
        Assert.Equal(stored, batch.Children());
        Assert.Equal(stored.SelectMany(s => s.Filings()), batch.Filings());
    }

    [Fact]
    public void A_different_actor_time_or_filing_starts_a_new_event_and_a_run_of_one_stays_an_InstanceStored()
    {
        var stored = new List<InstanceStored>
        {
            Stored("1"), Stored("2"),
            Stored("3", by: new Actor("other", "stow-rs")),
            Stored("4", at: T0.AddSeconds(1)), Stored("5", at: T0.AddSeconds(1)),
            Stored("6", at: T0.AddSeconds(1), filed: Filing),
        };

        var events = InstancesStored.Batched(stored).ToList();

        Assert.Collection(events,
            e => Assert.Equal(["1", "2"], Assert.IsType<InstancesStored>(e).Instances.Select(i => i.SopInstanceUid)),
            e => Assert.Equal("3", Assert.IsType<InstanceStored>(e).Instance.SopInstanceUid),
            e => Assert.Equal(["4", "5"], Assert.IsType<InstancesStored>(e).Instances.Select(i => i.SopInstanceUid)),
            e => Assert.Equal(Filing, Assert.IsType<InstanceStored>(e).FiledIn));
        Assert.Equal(stored, InstancesStored.Unbatched(events));
        Assert.Empty(InstancesStored.Batched([]));
    }

    [Fact]
    public void The_study_aggregate_folds_a_batch_as_it_folds_its_instances_one_by_one()
    {
        var stored = new[] { Stored("1"), Stored("2"), Stored("3") }.Select(s => s with { FiledIn = Filing }).ToList();
        var batch = Assert.IsType<InstancesStored>(Assert.Single(InstancesStored.Batched(stored)));

        var oneByOne = stored.Skip(1).Aggregate(Study.Create(stored[0]), (study, s) => study.Apply(s));
        var batched = Study.Create(batch);

        Assert.Equal(oneByOne.Instances.OrderBy(i => i.Key).ToList(), batched.Instances.OrderBy(i => i.Key).ToList());
        Assert.Equal(oneByOne.Archives.Keys.Order(), batched.Archives.Keys.Order());
        Assert.Equal(3, batched.Instances.Count);
        Assert.Equal(4, Study.Create(stored[0]).Apply(batch with { Instances = [.. batch.Instances, Stored("4").Instance] }).Instances.Count);
    }

    [Fact]
    public void An_erasure_masks_every_instance_of_the_batch_and_its_filing()
    {
        var header = JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["00100010"] = new { vr = "PN", Value = new[] { new { Alphabetic = "Doe^Jane" } } },
        });
        var stored = new[] { Stored("1"), Stored("2") }
            .Select(s => s with { FiledIn = Filing, Instance = s.Instance with { Header = header } }).ToList();
        var batch = Assert.IsType<InstancesStored>(Assert.Single(InstancesStored.Batched(stored)));

        var masked = batch.WithPersonalDataErased();

        Assert.All(masked.Instances, i => Assert.DoesNotContain("Doe^Jane", i.Header.GetRawText()));
        Assert.Equal(stored.Select(s => s.Instance.WithPersonalDataErased().Header.GetRawText()), masked.Instances.Select(i => i.Header.GetRawText()));
        Assert.NotEqual(Filing.PatientId, masked.FiledIn!.PatientId);
    }

    [Fact]
    public void A_study_stream_read_back_from_the_log_is_folded_without_parsing_the_headers_after_the_first()
    {
        // As the event store serialises and reads events back: the headers are text until a reader asks for one.
        var store = new JsonSerializerOptions { MaxDepth = HeaderJson.MaxDepth };
        var header = JsonDocument.Parse("""{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]},"00100020":{"vr":"LO","Value":["P1"]}}""").RootElement;
        var written = new[] { "1", "2", "3" }
            .Select(sop => Stored(sop) with { Instance = Stored(sop).Instance with { Header = header } })
            .Select(e => JsonSerializer.Serialize(new InstancesStored(StreamId, [e.Instance], e.StoredBy, e.StoredAt), store))
            .ToList();
        var read = written.Select(json => JsonSerializer.Deserialize<InstancesStored>(json, store)!).ToList();

        var study = read.Skip(1).Aggregate(Study.Create(read[0]), (folded, e) => folded.Apply(e));

        Assert.Equal(["1", "2", "3"], study.Instances.Keys.Order());
        Assert.Equal("P1", study.ReceivedPatient?.PatientId);
        Assert.All(read.Skip(1), e => Assert.False(e.Instances[0].Header.IsParsed));
        Assert.Equal(written[1], JsonSerializer.Serialize(read[1], store));
    }
}
