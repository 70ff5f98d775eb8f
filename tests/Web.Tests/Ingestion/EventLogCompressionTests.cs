using EventSourced.Web.Infrastructure;
using EventSourced.Web.Tests.Patients;
using EventSourced.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventSourced.Web.Tests.Ingestion;

/// <summary>
/// The event log's data column keeps PostgreSQL's default (pglz) after the service has started with the default
/// setting; the setting's lz4 switches it without rewriting the rows written before, which read as before, and a
/// second start changes nothing; a table another transaction holds is left as it is after a bounded wait (the next
/// start switches it); pglz sets pglz back, and an unknown method is refused.
/// </summary>
public sealed class EventLogCompressionTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Events_keep_pglz_by_default_and_lz4_when_set_while_rows_written_before_still_read()
    {
        var client = await fixture.App.ClientForTenantAsync("compression");
        var (study, _, _) = await PatientSupport.StowStudyAsync(client, "LZ-1", "LZ^ONE");
        var dataSource = fixture.App.Services.GetRequiredService<NpgsqlDataSource>();
        try
        {
            // The default: the column as PostgreSQL made it; a header-carrying event is large enough to be compressed, with pglz.
            Assert.Contains(await SqlCommands.ScalarTextAsync(fixture.ConnectionString, Column), new[] { "", "p" });
            const string first = "select pg_column_compression(data) || ' ' || md5(data::text) from eventsourced.mt_events where type = 'instance_stored' and data::text like '%LZ^ONE%'";
            var before = await SqlCommands.ScalarTextAsync(fixture.ConnectionString, first);
            Assert.StartsWith("pglz ", before);

            // lz4 set: the column switches, the row written before keeps pglz and reads alike, the next row is lz4.
            Assert.True(await EventLogCompression.ApplyAsync(dataSource, "eventsourced", "lz4", NullLogger.Instance, CancellationToken.None));
            Assert.Equal("l", await SqlCommands.ScalarTextAsync(fixture.ConnectionString, Column));
            Assert.Equal(before, await SqlCommands.ScalarTextAsync(fixture.ConnectionString, first));
            Assert.True(await EventLogCompression.ApplyAsync(dataSource, "eventsourced", "lz4", NullLogger.Instance, CancellationToken.None));
            await PatientSupport.StowStudyAsync(client, "LZ-2", "LZ^TWO");
            Assert.Equal("lz4", await SqlCommands.ScalarTextAsync(fixture.ConnectionString, 
                "select pg_column_compression(data) from eventsourced.mt_events where type = 'instance_stored' and data::text like '%LZ^TWO%'"));

            // The study stored under pglz is read back from its events as it was stored (the history is the study
            // feed's, an async projection: read once the feed holds both studies' instances, as a client would).
            Assert.Equal(2, (await StudyFeed.StudyEventsTests.ReadAllAsync(client, expected: 2)).Count);
            var history = await client.GetAsync($"/audit/studies/{study}/history");
            Assert.Equal(System.Net.HttpStatusCode.OK, history.StatusCode);
            await fixture.App.Store.Storage.Database.AssertDatabaseMatchesConfigurationAsync();
        }
        finally
        {
            Assert.True(await EventLogCompression.ApplyAsync(dataSource, "eventsourced", "pglz", NullLogger.Instance, CancellationToken.None));
        }
    }

    [Fact]
    public async Task A_table_held_by_a_long_transaction_is_left_as_it_is_rather_than_waited_for()
    {
        var dataSource = fixture.App.Services.GetRequiredService<NpgsqlDataSource>();
        await SqlCommands.ExecuteAsync(fixture.ConnectionString, "alter table eventsourced.mt_events alter column data set compression pglz");
        await using (var holder = new NpgsqlConnection(fixture.ConnectionString))
        {
            await holder.OpenAsync();
            await using var transaction = await holder.BeginTransactionAsync();
            await using (var read = new NpgsqlCommand("select count(*) from eventsourced.mt_events", holder, transaction))
            {
                await read.ExecuteScalarAsync();
            }

            // Without the bounded wait this would block until the transaction ends, which it does only after.
            Assert.False(await EventLogCompression.ApplyAsync(dataSource, "eventsourced", "lz4", NullLogger.Instance, CancellationToken.None));
            Assert.Equal("p", await SqlCommands.ScalarTextAsync(fixture.ConnectionString, Column));
        }

        Assert.True(await EventLogCompression.ApplyAsync(dataSource, "eventsourced", "lz4", NullLogger.Instance, CancellationToken.None));
        Assert.Equal("l", await SqlCommands.ScalarTextAsync(fixture.ConnectionString, Column));
        Assert.True(await EventLogCompression.ApplyAsync(dataSource, "eventsourced", "pglz", NullLogger.Instance, CancellationToken.None));
    }

    [Fact]
    public async Task The_setting_pglz_sets_it_back_and_an_unknown_method_is_refused()
    {
        var dataSource = fixture.App.Services.GetRequiredService<NpgsqlDataSource>();
        try
        {
            Assert.True(await EventLogCompression.ApplyAsync(dataSource, "eventsourced", "lz4", NullLogger.Instance, CancellationToken.None));
            Assert.True(await EventLogCompression.ApplyAsync(dataSource, "eventsourced", "pglz", NullLogger.Instance, CancellationToken.None));
            Assert.Equal("p", await SqlCommands.ScalarTextAsync(fixture.ConnectionString, Column));
            await Assert.ThrowsAsync<InvalidOperationException>(() =>
                EventLogCompression.ApplyAsync(dataSource, "eventsourced", "zstd", NullLogger.Instance, CancellationToken.None));
        }
        finally
        {
            Assert.True(await EventLogCompression.ApplyAsync(dataSource, "eventsourced", "pglz", NullLogger.Instance, CancellationToken.None));
        }
    }

    [Fact]
    public async Task A_database_without_an_event_table_is_left_alone()
    {
        var dataSource = fixture.App.Services.GetRequiredService<NpgsqlDataSource>();
        Assert.False(await EventLogCompression.ApplyAsync(dataSource, "no_such_schema", "lz4", NullLogger.Instance, CancellationToken.None));
    }

    private const string Column = "select attcompression::text from pg_attribute where attrelid = 'eventsourced.mt_events'::regclass and attname = 'data'";
}
