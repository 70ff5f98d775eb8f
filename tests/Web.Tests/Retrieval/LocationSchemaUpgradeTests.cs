using System.Net;
using EventSourced.Web.Tests.Patients;
using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.Retrieval;

/// <summary>
/// A database from before the instance records held their locations (a location table of its own,
/// <c>mt_doc_instancelocation</c>, beside instance records without location columns) is upgraded when a process
/// starts: the columns are filled from the records' documents as the projection writes them, the old table is
/// dropped, retrieval answers the same bytes, and a rebuild from the log agrees column by column.
/// </summary>
public sealed class LocationSchemaUpgradeTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Instance_records_without_location_columns_are_filled_at_start_the_old_table_dropped_and_retrieval_answers_the_same_bytes()
    {
        var client = await fixture.App.ClientForTenantAsync("locations");
        var (study, series, sops) = await PatientSupport.StowStudyAsync(client, "LOC-1", "LOC^ONE", series: 2, instancesPerSeries: 2);
        var replaced = await client.PostAsync("/dicomweb/studies", Multipart.Related(PatientSupport.Instance(study, series[0], sops[0], "LOC-1", "LOC^ONE", birthDate: "19800102")));
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);

        string[] urls =
        [
            .. sops.Select((sop, i) => $"/dicomweb/studies/{study}/series/{series[i / 2]}/instances/{sop}"),
            $"/dicomweb/studies/{study}/series/{series[1]}", $"/dicomweb/studies/{study}",
        ];
        var answers = await AnswersAsync(client, urls);
        var rows = await RowsAsync();
        Assert.Equal(4, rows.Count);

        await DowngradeAsync();
        Assert.Equal(4L, await ScalarAsync("select count(*) from eventsourced.mt_doc_instancelocation where tenant_id = 'locations'"));

        // A process of this build starts on it (the tenant command applies the schema as the service does).
        var cli = new ServiceProcess(fixture.ConnectionString, fixture.App.BlobRoot);
        await cli.RunCliAsync("tenants", "ensure", "locations");

        Assert.Equal(rows, await RowsAsync());
        Assert.Equal(true, await ScalarAsync("select to_regclass('eventsourced.mt_doc_instancelocation') is null"));
        Assert.Equal(answers, await AnswersAsync(client, urls));
        await fixture.App.Store.Storage.Database.AssertDatabaseMatchesConfigurationAsync();

        await cli.AssertProjectionsVerifyAsync();
    }

    /// <summary>Each answer's bytes, its multipart boundary (a new one per answer) replaced by a fixed one.</summary>
    private static async Task<List<string>> AnswersAsync(HttpClient client, string[] urls)
    {
        var answers = new List<string>();
        foreach (var url in urls)
        {
            var response = await client.GetAsync(url);
            var body = Convert.ToHexString(await response.Content.ReadAsByteArrayAsync());
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode}");
            var boundary = response.Content.Headers.ContentType!.Parameters.Single(p => p.Name == "boundary").Value!.Trim('"');
            answers.Add(body.Replace(Convert.ToHexString(System.Text.Encoding.ASCII.GetBytes(boundary)), "--boundary--", StringComparison.Ordinal));
        }

        return answers;
    }

    /// <summary>The tenant's instance records' location columns.</summary>
    private async Task<List<string>> RowsAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            select id || ' ' || transfer_syntax_uid || ' ' || blob_sha256 || ' ' || blob_length || ' ' || to_char(stored_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')
            from eventsourced.mt_doc_qidoinstance where tenant_id = 'locations' order by 1
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>
    /// The tables as the previous version wrote them: instance records without the location columns, and a location
    /// document per SOP Instance UID and tenant (the shape of its first version: numeric revisions).
    /// </summary>
    private async Task DowngradeAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var downgrade = new NpgsqlCommand(
            """
            create table eventsourced.mt_doc_instancelocation (
                tenant_id varchar not null default '*DEFAULT*', id varchar not null, data jsonb not null,
                mt_last_modified timestamptz default transaction_timestamp(), mt_version bigint not null default 0, primary key (tenant_id, id));
            insert into eventsourced.mt_doc_instancelocation (tenant_id, id, data)
            select tenant_id, sop_instance_uid,
                   jsonb_build_object('Id', sop_instance_uid, 'StudyInstanceUid', study_instance_uid, 'SeriesInstanceUid', series_instance_uid,
                                      'SopClassUid', sop_class_uid, 'TransferSyntaxUid', transfer_syntax_uid, 'Sha256', blob_sha256, 'Length', blob_length,
                                      'InstanceNumber', instance_number, 'StoredAt', data ->> 'StoredAt')
            from eventsourced.mt_doc_qidoinstance;
            alter table eventsourced.mt_doc_qidoinstance
                drop column transfer_syntax_uid, drop column blob_sha256, drop column blob_length, drop column stored_at;
            """, connection);
        await downgrade.ExecuteNonQueryAsync();
    }
}
