using EventSourced.Dicom;
using EventSourced.Domain.Studies;
using EventSourced.Projections.Qido;
using EventSourced.Projections.Studies;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Support;
using Marten;

namespace EventSourced.Web.Tests.Studies;

/// <summary>
/// The per-instance read model written without reading it first: a SOP Instance UID that a second study of the
/// tenant stores as new has a record, and a location, in each study; a lookup by the SOP Instance UID alone finds
/// the study that stored it first; a replacement moves its study's location to the new bytes; a rebuild from the
/// log gives the same rows.
/// </summary>
public sealed class InstanceRecordsTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_sop_instance_stored_in_two_studies_is_located_in_each_the_first_by_its_uid_alone_and_a_rebuild_agrees()
    {
        const string tenant = "instance-records";
        var root = "1.2.826.0.1.3680043.10.545.7" + DateTime.UtcNow.Ticks;
        var sop = $"{root}.99";
        StoredInstance Instance(string study, string description) => QidoSupport.FromDataset(QidoSupport.Synthetic(study, $"{study}.1", sop,
            ("PatientID", DicomVR.LO, "IR-1"), ("SeriesDescription", DicomVR.LO, description)));

        var first = Instance($"{root}.1", "first");
        var second = Instance($"{root}.2", "second");
        Assert.Equal(StoreOutcome.Stored, (await fixture.App.StoreAsync(tenant, first)).Outcome);
        Assert.Equal(StoreOutcome.Stored, (await fixture.App.StoreAsync(tenant, second)).Outcome);

        await using (var session = fixture.App.Store.QuerySession(tenant))
        {
            Assert.Equal(first.Blob.Sha256, (await InstanceLocations.OfAsync(session, $"{root}.1", $"{root}.1.1", sop, default))!.Sha256);
            Assert.Equal(second.Blob.Sha256, (await InstanceLocations.OfAsync(session, $"{root}.2", $"{root}.2.1", sop, default))!.Sha256);
            Assert.Null(await InstanceLocations.OfAsync(session, $"{root}.2", $"{root}.1.1", sop, default));
            Assert.Equal($"{root}.1", (await InstanceLocations.BySopInstanceUidAsync(session, sop, default))!.StudyInstanceUid);
            var records = await session.Query<QidoInstance>().Where(x => x.SopInstanceUid == sop).ToListAsync();
            Assert.Equal([$"{root}.1", $"{root}.2"], records.Select(r => r.StudyInstanceUid).Order());
        }

        var again = Instance($"{root}.2", "second, again");
        Assert.Equal(StoreOutcome.Replaced, (await fixture.App.StoreAsync(tenant, again)).Outcome);
        await using (var session = fixture.App.Store.QuerySession(tenant))
        {
            var replaced = (await InstanceLocations.OfAsync(session, $"{root}.2", $"{root}.2.1", sop, default))!;
            Assert.Equal((again.Blob.Sha256, again.Blob.Length, again.TransferSyntaxUid), (replaced.Sha256, replaced.Length, replaced.TransferSyntaxUid));
            Assert.Equal(first.Blob.Sha256, (await InstanceLocations.BySopInstanceUidAsync(session, sop, default))!.Sha256);
        }

        await ReadModelTables.AssertStudyReadModelsEqualARebuildAsync(fixture.App.Store, fixture.ConnectionString);
    }
}
