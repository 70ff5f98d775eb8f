using EventSourced.Dicom;
using EventSourced.Domain.Studies;
using EventSourced.Projections.Qido;
using EventSourced.Projections.Studies;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Support;
using Marten;

namespace EventSourced.Web.Tests.Studies;

/// <summary>
/// The per-instance read models written without reading them first: a SOP Instance UID that a second study of
/// the tenant stores as new keeps the location of the first (one location per UID), while each study has its
/// own QIDO record; a replacement moves the location; a rebuild from the log gives the same rows.
/// </summary>
public sealed class InstanceRecordsTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_sop_instance_stored_in_a_second_study_keeps_its_first_location_until_replaced_and_a_rebuild_agrees()
    {
        const string tenant = "instance-records";
        var root = "1.2.826.0.1.3680043.10.545.7" + DateTime.UtcNow.Ticks;
        var sop = $"{root}.99";
        StoredInstance Instance(string study, string description) => QidoSupport.FromDataset(QidoSupport.Synthetic(study, $"{study}.1", sop,
            ("PatientID", DicomVR.LO, "IR-1"), ("SeriesDescription", DicomVR.LO, description)));

        Assert.Equal(StoreOutcome.Stored, (await fixture.App.StoreAsync(tenant, Instance($"{root}.1", "first"))).Outcome);
        Assert.Equal(StoreOutcome.Stored, (await fixture.App.StoreAsync(tenant, Instance($"{root}.2", "second"))).Outcome);

        await using (var session = fixture.App.Store.QuerySession(tenant))
        {
            Assert.Equal($"{root}.1", (await session.LoadAsync<InstanceLocation>(sop))!.StudyInstanceUid);
            var records = await session.Query<QidoInstance>().Where(x => x.SopInstanceUid == sop).ToListAsync();
            Assert.Equal([$"{root}.1", $"{root}.2"], records.Select(r => r.StudyInstanceUid).Order());
        }

        Assert.Equal(StoreOutcome.Replaced, (await fixture.App.StoreAsync(tenant, Instance($"{root}.2", "second, again"))).Outcome);
        await using (var session = fixture.App.Store.QuerySession(tenant))
        {
            Assert.Equal($"{root}.2", (await session.LoadAsync<InstanceLocation>(sop))!.StudyInstanceUid);
        }

        await ReadModelTables.AssertStudyReadModelsEqualARebuildAsync(fixture.App.Store, fixture.ConnectionString);
    }
}
