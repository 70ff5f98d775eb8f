using EventSourced.Dicom;
using EventSourced.Projections.Archive;
using EventSourced.Web.Tests.Support;
using Marten;
using Npgsql;
using static EventSourced.Web.Tests.Archive.ArchiveSupport;

namespace EventSourced.Web.Tests.Archive;

/// <summary>Document d's read models are disposable: rebuilt from the study streams they come out identical to the live ones.</summary>
public sealed class ArchiveProjectionRebuildTests(ArchiveFormsFixture fixture) : IClassFixture<ArchiveFormsFixture>
{
    private static readonly string[] Tables = ["mt_doc_archivestudy", "mt_doc_archiveseries", "mt_doc_archiveseriesresult", "mt_doc_archiveformentry"];

    [Fact]
    public async Task Rebuilding_the_archive_projections_reproduces_them_exactly()
    {
        foreach (var tenant in new[] { "rebuild-archive-a", "rebuild-archive-b" })
        {
            var client = await fixture.App.ClientForTenantAsync(tenant);
            var first = Create("P-1");
            await client.UploadOkAsync(first.Bytes, "proj", "arch-1");
            await client.UploadOkAsync(Create("P-1", first.Study, first.Series).Bytes, "proj", "arch-1");
            await client.UploadOkAsync(Create("P-1", first.Study).Bytes, "proj", "arch-1");
            await client.UploadOkAsync(first.Bytes, "proj", "arch-1"); // idempotent: no event
            await client.UploadOkAsync(first.Bytes, "proj", "arch-2"); // filed again elsewhere
            await client.UploadOkAsync(Create("P-2", template: "SC_rgb_small_odd.dcm", sopClass: OphthalmicPhotography8Bit).Bytes, "other", "arch-1");

            // Two results of one name (the later replaces the earlier) and one more; two form submissions.
            foreach (var (name, value) in new[] { ("Score", "1.5"), ("Score", "2.5"), ("Label", "normal") })
            {
                var result = new MultipartFormDataContent
                {
                    { new StringContent("proj"), "Project" }, { new StringContent("arch-1"), "Archive" },
                    { new StringContent(first.Study), "StudyInstanceUID" }, { new StringContent(first.Series), "SeriesInstanceUID" },
                    { new StringContent("cad4tb"), "Type" }, { new StringContent(name), "Name" }, { new StringContent("CAD4TB"), "Algorithm" },
                    { new StringContent(value), "Value" },
                };
                Assert.True((await client.PostAsync("/admin/archive/series/results", result)).IsSuccessStatusCode);
            }

            for (var i = 0; i < 2; i++)
            {
                var form = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["Project"] = "proj", ["Archive"] = "arch-1", ["PatientID"] = "P-1", ["StudyInstanceUID"] = first.Study,
                    ["SeriesInstanceUID"] = first.Series, ["FormName"] = "TB review", ["FormSubmission"] = $$"""{"n":{{i}}}""",
                });
                Assert.True((await client.PostAsync("/api/v1/patient/study/series/forms/add/", form)).IsSuccessStatusCode);
            }
        }

        var live = await RowsAsync();
        Assert.Equal([6, 8, 4, 4], live.Select(t => t.Count));

        await ReadModelTables.ClearAsync(fixture.ConnectionString, Tables);

        using var daemon = await fixture.App.Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<ArchiveStudyProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<ArchiveSeriesProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<ArchiveSeriesResultProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<ArchiveFormEntryProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal(live, await RowsAsync());
    }

    private Task<List<List<string>>> RowsAsync() => ReadModelTables.RowsAsync(fixture.ConnectionString, Tables);
}
