using System.Text.Json;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;

namespace EventSourced.Domain.Tests.Studies;

public sealed class StoreInstanceDecisionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    private static readonly Actor Modality = new("ct1", "stow-rs");
    private static readonly Guid StreamId = Study.StreamId("t", "1.2.3");

    private static StoredInstance Instance(string sop, string sha, string series = "1.2.3.1") => new(
        "1.2.3", series, sop, "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1",
        JsonSerializer.SerializeToElement(new { }), new BlobRef(sha, "sha1-" + sha, 100), IngestChannel.StowRs, "CT1", "CTSTATION");

    private static Study Given(params object[] events)
    {
        Study? study = null;
        foreach (var e in events)
        {
            study = (e, study) switch
            {
                (InstanceStored s, null) => Study.Create(s),
                (InstanceStored s, { } st) => st.Apply(s),
                (InstanceReplaced r, { } st) => st.Apply(r),
                _ => throw new ArgumentException(e.GetType().Name),
            };
        }

        return study!;
    }

    [Fact]
    public void A_new_instance_is_stored()
    {
        var instance = Instance("1.2.3.1.1", "a");
        var decision = StudyDecisions.Store(null, StreamId, instance, Window, Modality, T0);
        Assert.Equal(StoreOutcome.Stored, decision.Outcome);
        Assert.Equal(new InstanceStored(StreamId, instance, Modality, T0), decision.Event);
    }

    [Fact]
    public void The_same_bytes_again_are_stored_already_and_append_nothing()
    {
        var study = Given(new InstanceStored(StreamId, Instance("1.2.3.1.1", "a"), Modality, T0));
        var decision = StudyDecisions.Store(study, StreamId, Instance("1.2.3.1.1", "a"), Window, Modality, T0.AddDays(30));
        Assert.Equal(new StoreDecision(StoreOutcome.AlreadyStored, null, null), decision);
    }

    [Fact]
    public void Different_bytes_within_the_window_of_the_previous_store_replace_it_keeping_the_old_hash()
    {
        var study = Given(
            new InstanceStored(StreamId, Instance("1.2.3.1.1", "a"), Modality, T0),
            new InstanceReplaced(StreamId, Instance("1.2.3.1.1", "b"), "a", Modality, T0.AddMinutes(4)));

        // 8 minutes after the first store but 4 after the replacement: the window runs from the previous store.
        var decision = StudyDecisions.Store(study, StreamId, Instance("1.2.3.1.1", "c"), Window, Modality, T0.AddMinutes(8));

        Assert.Equal(StoreOutcome.Replaced, decision.Outcome);
        Assert.Equal("b", Assert.IsType<InstanceReplaced>(decision.Event).PreviousSha256);
    }

    [Fact]
    public void Different_bytes_after_the_window_are_a_conflict()
    {
        var study = Given(new InstanceStored(StreamId, Instance("1.2.3.1.1", "a"), Modality, T0));
        var decision = StudyDecisions.Store(study, StreamId, Instance("1.2.3.1.1", "b"), Window, Modality, T0 + Window + TimeSpan.FromTicks(1));
        Assert.Equal(StoreOutcome.Rejected, decision.Outcome);
        Assert.Null(decision.Event);
        Assert.Equal(RejectionKind.Conflict, decision.Rejection!.Kind);
    }

    [Fact]
    public void A_stored_SOP_instance_cannot_move_to_another_series_by_being_sent_again()
    {
        var study = Given(new InstanceStored(StreamId, Instance("1.2.3.1.1", "a"), Modality, T0));
        var decision = StudyDecisions.Store(study, StreamId, Instance("1.2.3.1.1", "b", series: "1.2.3.2"), Window, Modality, T0.AddMinutes(1));
        Assert.Equal(StoreOutcome.Rejected, decision.Outcome);
    }
}

public sealed class StoredInstanceErasureTests
{
    [Fact]
    public void Erasure_empties_the_patients_attributes_and_keeps_the_rest_of_the_header()
    {
        var header = JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["00100010"] = new { vr = "PN", Value = new[] { new { Alphabetic = "DOE^JANE" } } },
            ["00100020"] = new { vr = "LO", Value = new[] { "P1" } },
            ["00100030"] = new { vr = "DA", Value = new[] { "19700101" } },
            ["0020000D"] = new { vr = "UI", Value = new[] { "1.2.3" } },
            ["00080060"] = new { vr = "CS", Value = new[] { "CT" } },
        });
        var instance = new StoredInstance("1.2.3", "1.2.3.1", "1.2.3.1.1", "1.2", "1.2.840.10008.1.2.1", header,
            new BlobRef("a", "b", 1), IngestChannel.StowRs, null, null);

        var erased = instance.WithPersonalDataErased();

        // PatientName, PatientID and PatientBirthDate are Z in the basic profile: present, without a value.
        Assert.Equal(["00100010", "00100020", "00100030", "0020000D", "00080060"], erased.Header.EnumerateObject().Select(p => p.Name));
        Assert.Equal("""{"vr":"PN"}""", erased.Header.GetProperty("00100010").GetRawText());
        Assert.Equal("""{"vr":"DA"}""", erased.Header.GetProperty("00100030").GetRawText());
        Assert.DoesNotContain("DOE", erased.Header.GetRawText());
        Assert.Equal(instance with { Header = erased.Header }, erased);
    }
}
