using System.Net;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Projections.Qido;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Support;
using Marten;
using Npgsql;

namespace EventSourced.Web.Tests.Hosting;

/// <summary>A database that does not answer in time: QIDO's bounded command timeout, and the one unhandled-exception path.</summary>
public class DatabaseUnavailableFixture : ServiceFixture, IAsyncLifetime
{
    public const string Tenant = "slow-db";
    public static readonly string Study = "1.2.826.0.1.3680043.10.543.77." + DateTime.UtcNow.Ticks;

    public HttpClient Client { get; private set; } = null!;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Qido:CommandTimeout"] = "00:00:01" };

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Client = await App.ClientForTenantAsync(Tenant, "studies.read");
        await App.StoreAsync(Tenant, QidoSupport.FromDataset(QidoSupport.Synthetic(Study, Study + ".1", Study + ".1.1",
            ("PatientID", DicomVR.LO, "SLOW1"), ("Modality", DicomVR.CS, "CT"), ("StationName", DicomVR.SH, "CTER01"))));
    }

    /// <summary>Holds an ACCESS EXCLUSIVE lock on the document table until disposed: every read of it waits.</summary>
    public async Task<NpgsqlConnection> LockAsync<T>()
    {
        var table = App.Store.Options.FindOrResolveDocumentType(typeof(T)).TableName.QualifiedName;
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"begin; lock table {table} in access exclusive mode", connection);
        await command.ExecuteNonQueryAsync();
        return connection;
    }
}

/// <summary>The same archive with QIDO's default command timeout (10 s): long enough to end the query's connection first.</summary>
public sealed class DatabaseRestartFixture : DatabaseUnavailableFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();
}

public sealed class DatabaseUnavailableTests(DatabaseUnavailableFixture fixture) : IClassFixture<DatabaseUnavailableFixture>
{
    [Theory]
    [InlineData("/dicomweb/studies?PatientID=SLOW1")]
    [InlineData("/dicomweb/series?StationName=CTER01&limit=1000")]
    public async Task A_search_blocked_past_its_command_timeout_is_a_503_with_Retry_After_and_the_next_one_succeeds(string url)
    {
        await using (var holder = await fixture.LockAsync<QidoStudy>())
        {
            var (blocked, body) = await fixture.Client.QidoAsync(url);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, blocked.StatusCode);
            Assert.Equal("application/problem+json", blocked.Content.Headers.ContentType?.MediaType);
            Assert.Equal(503, body.GetProperty("status").GetInt32());
            Assert.True(blocked.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, $"Retry-After: {blocked.Headers.RetryAfter}");
        }

        // The lock is gone: the service answers again, without a restart.
        var (answered, matches) = await fixture.Client.QidoAsync(url);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal(JsonValueKind.Array, matches.ValueKind);
        Assert.Equal(1, matches.GetArrayLength());
    }
}

/// <summary>
/// What a PostgreSQL restart does to a query in flight, without stopping the server every test shares:
/// the query's backend is ended by an administrator command (SQLSTATE 57P01, as in a fast shutdown).
/// </summary>
public sealed class DatabaseRestartTests(DatabaseRestartFixture fixture) : IClassFixture<DatabaseRestartFixture>
{
    [Fact]
    public async Task A_search_whose_connection_is_terminated_is_a_503_with_Retry_After_and_the_next_one_succeeds()
    {
        const string url = "/dicomweb/series?StationName=CTER01&limit=1000";
        await using (var holder = await fixture.LockAsync<QidoStudy>())
        {
            var search = fixture.Client.QidoAsync(url);
            await using var admin = new NpgsqlConnection(fixture.ConnectionString);
            await admin.OpenAsync();
            var terminated = await Eventually.Until(async () =>
            {
                await using var command = new NpgsqlCommand(
                    "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity " +
                    "where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()) t", admin);
                return (long)(await command.ExecuteScalarAsync())!;
            }, n => n > 0, TimeSpan.FromSeconds(8), "the search's backend waiting on the lock");
            Assert.True(terminated > 0);

            var (response, body) = await search;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(503, body.GetProperty("status").GetInt32());
            Assert.True(response.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, $"Retry-After: {response.Headers.RetryAfter}");
        }

        var (answered, matches) = await fixture.Client.QidoAsync(url);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal(1, matches.GetArrayLength());
    }
}
