using EventSourced.Dicom;
using EventSourced.Domain.Studies;
using EventSourced.Projections.Qido;
using EventSourced.Web.Tests.Support;
using Marten;
using Npgsql;

namespace EventSourced.Web.Tests.Qido;

/// <summary>The QIDO read models are disposable: rebuilt from the study streams they come out identical to the live ones.</summary>
public sealed class QidoProjectionRebuildTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private static readonly string[] Tables = ["mt_doc_qidostudy", "mt_doc_qidoseries", "mt_doc_qidoinstance"];

    [Fact]
    public async Task Rebuilding_the_qido_projections_reproduces_them_exactly()
    {
        var root = "1.2.826.0.1.3680043.10.545." + DateTime.UtcNow.Ticks;
        foreach (var tenant in new[] { "rebuild-qido-a", "rebuild-qido-b" })
        {
            for (var s = 0; s < 2; s++)
            {
                var study = $"{root}.{s}";
                for (var i = 0; i < 3; i++)
                {
                    var series = $"{study}.{i % 2}";
                    await fixture.App.StoreAsync(tenant, QidoSupport.FromDataset(QidoSupport.Synthetic(study, series, $"{series}.{i}",
                        ("PatientID", DicomVR.LO, tenant), ("PatientName", DicomVR.PN, "Zoë^Ångström"), ("Modality", DicomVR.CS, i % 2 == 0 ? "CT" : "SR"),
                        ("InstanceNumber", DicomVR.IS, i.ToString())), callingAe: $"AE{i}", stationName: $"ST{s}", length: 1000 + i));
                }
            }

            await fixture.App.StoreAsync(tenant, QidoSupport.FromCorpus("MR_small.dcm"));
        }

        // Different bytes for a stored SOP instance within the replace window: InstanceReplaced.
        var replaced = QidoSupport.FromDataset(QidoSupport.Synthetic($"{root}.0", $"{root}.0.0", $"{root}.0.0.0",
            ("PatientID", DicomVR.LO, "rebuild-qido-a"), ("PatientName", DicomVR.PN, "Zoë^Ångström"), ("Modality", DicomVR.CS, "CT"), ("InstanceNumber", DicomVR.IS, "9")), length: 5000);
        Assert.Equal(StoreOutcome.Replaced, (await fixture.App.StoreAsync("rebuild-qido-a", replaced)).Outcome);

        var live = await RowsAsync();
        Assert.Equal([6, 10, 14], live.Select(t => t.Count));
        await using (var session = fixture.App.Store.QuerySession("rebuild-qido-a"))
        {
            var study = await session.Query<QidoStudy>().SingleAsync(x => x.StudyInstanceUid == $"{root}.0");
            Assert.Equal(3, study.NumberOfStudyRelatedInstances);
            Assert.Equal(5000 + 1001 + 1002, study.SizeInBytes);
            Assert.Equal(" ZOE ANGSTROM", study.PatientNameFuzzy);
            Assert.Equal(["AE0", "AE1", "AE2", "MODALITY"], study.CallingAeTitles);
        }

        await ReadModelTables.ClearAsync(fixture.ConnectionString, Tables);

        using var daemon = await fixture.App.Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<QidoStudyProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<QidoSeriesProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<Projections.Studies.InstanceRecordsProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal(live, await RowsAsync());
    }

    private Task<List<List<string>>> RowsAsync() => ReadModelTables.RowsAsync(fixture.ConnectionString, Tables);
}
