using System.Net;
using EventSourced.Dicom;
using EventSourced.Projections.Qido;
using EventSourced.Web.Pacs;
using EventSourced.Web.Tests.Support;
using Marten;
using Npgsql;

namespace EventSourced.Web.Tests.Pathology;

/// <summary>
/// A slide is looked up by its Container Identifier (0040,0512) on the instance records' column under a partial
/// index, not by a containment match over every record's header; a database from before the column is upgraded when
/// a process starts (the column filled from the headers, the index built), and answers as before.
/// </summary>
public sealed class ContainerColumnTests(PathologyFixture fixture) : IClassFixture<PathologyFixture>
{
    private const string Tenant = "patho-container-column";

    [Fact]
    public async Task The_barcode_lookup_reads_the_indexed_column_and_a_database_without_it_is_upgraded_at_start()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var container = $"UPG-{Guid.NewGuid().ToString("N")[..10]}";
        var study = DicomUid.Generate();
        var series = DicomUid.Generate();
        // Three levels of one slide, the barcode padded as LO allows; and an instance of another study with no container.
        var levels = new[] { (1024u, 512u), (4096u, 2048u) }.Select(size => PathologyStorageTests.WholeSlideLevel(study, series, $" {container} ", size.Item1, size.Item2)).ToList();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related([.. levels]))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(SyntheticInstances.Create(DicomUid.Generate()).Bytes))).StatusCode);

        var slide = await WholeSlideAsync(client, container);
        Assert.Equal(levels[1], slide);
        Assert.Equal(slide, await WholeSlideAsync(client, $"  {container} ")); // LO: leading and trailing spaces are not significant
        var rows = await RowsAsync();
        Assert.Equal(["(none)", container, container], rows.Select(r => r.Container).OrderBy(c => c, StringComparer.Ordinal).ToArray());
        Assert.All(rows.Where(r => r.Container == "(none)"), r => Assert.False(r.InDocument)); // no null written into the document

        // The lookup's statement is served by the partial index (the table is too small for the planner to prefer it on its own).
        Assert.Contains(ContainerIndexName, await PlanAsync(container));

        // The previous shape: no column, no index, documents without the member.
        await SqlCommands.ExecuteAsync(fixture.ConnectionString, $"""
            drop index eventsourced.{ContainerIndexName};
            alter table eventsourced.mt_doc_qidoinstance drop column container_identifier;
            update eventsourced.mt_doc_qidoinstance set data = data - 'ContainerIdentifier' where data ? 'ContainerIdentifier';
            """);

        var cli = new ServiceProcess(fixture.ConnectionString, fixture.App.BlobRoot);
        await cli.RunCliAsync("tenants", "ensure", Tenant);

        Assert.Equal(rows.Select(r => (r.Id, r.Container)), (await RowsAsync()).Select(r => (r.Id, r.Container)));
        Assert.Equal(slide, await WholeSlideAsync(client, container));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/o3-dpacs-wado/wholeslide?barcode={container}X")).StatusCode);
        Assert.Contains(ContainerIndexName, await PlanAsync(container));
        await fixture.App.Store.Storage.Database.AssertDatabaseMatchesConfigurationAsync();
        await cli.AssertProjectionsVerifyAsync();
    }

    private const string ContainerIndexName = QidoRegistration.ContainerIdentifierIndex;

    private static async Task<byte[]> WholeSlideAsync(HttpClient client, string barcode)
    {
        var response = await client.GetAsync($"/o3-dpacs-wado/wholeslide?barcode={Uri.EscapeDataString(barcode)}");
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
        return body;
    }

    /// <summary>The tenant's instance records: id, the column ("(none)" for null), and whether the document names the member.</summary>
    private async Task<List<(Guid Id, string Container, bool InDocument)>> RowsAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select id, coalesce(container_identifier, '(none)'), data ? 'ContainerIdentifier' from eventsourced.mt_doc_qidoinstance where tenant_id = '{Tenant}' order by id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(Guid, string, bool)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetGuid(0), reader.GetString(1), reader.GetBoolean(2)));
        }

        return rows;
    }

    /// <summary>The plan of the statement Marten sends for the barcode lookup, with sequential scans ruled out.</summary>
    private async Task<string> PlanAsync(string container)
    {
        await using var session = fixture.App.Store.QuerySession(Tenant);
        return await QueryPlans.WithoutSequentialScansAsync(PacsSeriesLookup.WithContainer(session, container), fixture.ConnectionString);
    }
}
