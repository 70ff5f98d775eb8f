using EventSourced.Dicom;
using EventSourced.Projections.Archive;
using EventSourced.Web.Tests.Support;
using Marten;
using Npgsql;
using static EventSourced.Web.Tests.Archive.ArchiveSupport;

namespace EventSourced.Web.Tests.Archive;

/// <summary>Document d's read models are disposable: rebuilt from the study streams they come out identical to the live ones.</summary>
public sealed class ArchiveProjectionRebuildTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private static readonly string[] Tables = ["mt_doc_archivestudy", "mt_doc_archiveseries"];

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
        }

        var live = await RowsAsync();
        Assert.Equal([6, 8], live.Select(t => t.Count));

        await using (var connection = new NpgsqlConnection(fixture.ConnectionString))
        {
            await connection.OpenAsync();
            foreach (var table in Tables)
            {
                await new NpgsqlCommand($"delete from eventsourced.{table}", connection).ExecuteNonQueryAsync();
            }
        }

        using var daemon = await fixture.App.Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<ArchiveStudyProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<ArchiveSeriesProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal(live, await RowsAsync());
    }

    private async Task<List<List<string>>> RowsAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        var tables = new List<List<string>>();
        foreach (var table in Tables)
        {
            await using var command = new NpgsqlCommand($"select tenant_id || ' ' || id || ' ' || data::text from eventsourced.{table} order by tenant_id, id", connection);
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                rows.Add(reader.GetString(0));
            }

            tables.Add(rows);
        }

        return tables;
    }
}
