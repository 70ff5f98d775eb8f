using System.Net;
using EventSourced.Web.Tests.Patients;
using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.StudyFeed;

/// <summary>
/// A database from before the feed kept one row per entry (whole entries in <c>mt_doc_studyfeedentry</c>) and
/// before blob references were keyed by a UUID is upgraded when a process starts: the rows come out as the
/// projections write them, the feed answers byte for byte as before, and a rebuild from the log agrees.
/// </summary>
[Collection(StudyFeedCollection.Name)]
public sealed class FeedAndBlobSchemaUpgradeTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Tables_of_the_previous_shape_are_upgraded_at_start_and_the_feed_answers_the_same_bytes()
    {
        var client = await fixture.App.ClientForTenantAsync("upgrade");
        var (study, series, sops) = await PatientSupport.StowStudyAsync(client, "UP-1", "UP^ONE", series: 2, instancesPerSeries: 2);
        var replaced = await client.PostAsync("/dicomweb/studies", Multipart.Related(PatientSupport.Instance(study, series[0], sops[0], "UP-1", "UP^ONE", birthDate: "19800102")));
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        await PatientSupport.OkJsonAsync(await PatientSupport.PostAsync(client, "patients/update", """{"patientID":"UP-1","patientName":"UP^RENAMED","userName":"u"}"""));
        Assert.Equal(6, (await StudyEventsTests.ReadAllAsync(client, expected: 6)).Count);

        string[] urls =
        [
            "/o3-dpacs-wado/studyEvents?offsetId=0&limit=1000", "/o3-dpacs-wado/studyEvents?offsetId=0&limit=2",
            "/dicomweb/changefeed?includemetadata=true", "/dicomweb/changefeed?offset=1&limit=2&includemetadata=false",
            "/dicomweb/changefeed/latest", $"/audit/studies/{study}/history",
        ];
        var answers = await AnswersAsync(client, urls);
        var rows = await RowsAsync();
        Assert.Equal(6, rows.Count(r => r.StartsWith("feed upgrade ", StringComparison.Ordinal)));
        Assert.Equal(5, rows.Count(r => r.StartsWith("blob upgrade ", StringComparison.Ordinal)));

        await DowngradeAsync();

        // A process of this build starts on it (the tenant command applies the schema as the service does).
        var cli = new ServiceProcess(fixture.ConnectionString, fixture.App.BlobRoot);
        await cli.RunCliAsync("tenants", "ensure", "upgrade");

        Assert.Equal(rows, await RowsAsync());
        Assert.Equal(answers, await AnswersAsync(client, urls));
        await fixture.App.Store.Storage.Database.AssertDatabaseMatchesConfigurationAsync();

        await cli.AssertProjectionsVerifyAsync();
    }

    private static async Task<List<string>> AnswersAsync(HttpClient client, string[] urls)
    {
        var answers = new List<string>();
        foreach (var url in urls)
        {
            var response = await client.GetAsync(url);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {body}");
            answers.Add(body);
        }

        return answers;
    }

    private async Task<List<string>> RowsAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            select 'feed ' || tenant_id || ' ' || id || ' ' || data::text || ' ' || study_instance_uid || ' ' || coalesce(sop_instance_uid, '-') || ' '
                   || coalesce(change_feed_action, '-') || ' ' || to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') from eventsourced.mt_doc_studyfeedrow
            union all
            select 'blob ' || tenant_id || ' ' || id::text || ' ' || data::text from eventsourced.mt_doc_referencedblob
            order by 1
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    /// <summary>
    /// The two tables as the previous version wrote them: whole entries with a text id and the sequence column
    /// (the members the upgrade reads; a time with seven fractional digits, as System.Text.Json writes it), and
    /// blob references keyed by the hex SHA-256 with the bookkeeping columns.
    /// </summary>
    private async Task DowngradeAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var downgrade = new NpgsqlCommand(
            """
            create table eventsourced.mt_doc_studyfeedentry (
                tenant_id varchar not null default '*DEFAULT*', id varchar not null, data jsonb not null,
                mt_last_modified timestamptz default transaction_timestamp(), mt_version uuid not null default md5(random()::text || clock_timestamp()::text)::uuid,
                sequence bigint, study_instance_uid varchar, primary key (tenant_id, id));
            insert into eventsourced.mt_doc_studyfeedentry (tenant_id, id, data, sequence, study_instance_uid)
            select tenant_id, (id >> 24) || ':' || (id & 16777215),
                   jsonb_build_object('Id', (id >> 24) || ':' || (id & 16777215), 'Index', id & 16777215, 'Sequence', id >> 24, 'Kind', 'InstanceStored',
                                      'SopInstanceUid', sop_instance_uid, 'ChangeFeedAction', change_feed_action,
                                      'OccurredAt', to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '9+00:00'),
                   id >> 24, study_instance_uid
            from eventsourced.mt_doc_studyfeedrow;
            drop table eventsourced.mt_doc_studyfeedrow;
            alter table eventsourced.mt_doc_referencedblob
                add column mt_last_modified timestamptz default transaction_timestamp(),
                add column mt_version uuid not null default md5(random()::text || clock_timestamp()::text)::uuid,
                alter column id type varchar using replace(id::text, '-', '') || repeat('e', 32),
                alter column data type jsonb using jsonb_build_object('Id', replace(id::text, '-', '') || repeat('e', 32));
            """, connection);
        await downgrade.ExecuteNonQueryAsync();
    }
}
