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
public sealed class DatabaseUnavailableFixture : ServiceFixture, IAsyncLifetime
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
}

public sealed class DatabaseUnavailableTests(DatabaseUnavailableFixture fixture) : IClassFixture<DatabaseUnavailableFixture>
{
    [Theory]
    [InlineData("/dicomweb/studies?PatientID=SLOW1")]
    [InlineData("/dicomweb/series?StationName=CTER01&limit=1000")]
    public async Task A_search_blocked_past_its_command_timeout_is_a_503_with_Retry_After_and_the_next_one_succeeds(string url)
    {
        await using (var holder = await LockAsync<QidoStudy>())
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

    /// <summary>Holds an ACCESS EXCLUSIVE lock on the document table until disposed: every read of it waits.</summary>
    private async Task<NpgsqlConnection> LockAsync<T>()
    {
        var table = fixture.App.Store.Options.FindOrResolveDocumentType(typeof(T)).TableName.QualifiedName;
        var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"begin; lock table {table} in access exclusive mode", connection);
        await command.ExecuteNonQueryAsync();
        return connection;
    }
}
