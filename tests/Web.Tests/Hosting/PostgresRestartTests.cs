using System.Net;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.Hosting;

/// <summary>Tests that stop and restart a PostgreSQL server: each gets a cluster of its own, never the shared one.</summary>
[CollectionDefinition(nameof(OwnPostgresCollection), DisableParallelization = true)]
public sealed class OwnPostgresCollection;

/// <summary>The service on a cluster of its own, started once for the class.</summary>
public sealed class OwnPostgresFixture : IAsyncLifetime
{
    public const string Tenant = "pg-restart";

    public PostgresCluster Cluster { get; private set; } = null!;
    public AppFactory App { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Durable, as in production: the crash-like restart must not lose an acknowledged commit.
        Cluster = await PostgresCluster.StartAsync(durable: true);
        await using (var connection = new NpgsqlConnection(Cluster.AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("create database service", connection);
            await command.ExecuteNonQueryAsync();
        }

        App = new AppFactory(new NpgsqlConnectionStringBuilder(Cluster.AdminConnectionString) { Database = "service" }.ConnectionString);
        Client = await App.ClientForTenantAsync(Tenant, "studies.read", "studies.write");
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        Cluster.Dispose();
    }
}

[Collection(nameof(OwnPostgresCollection))]
public sealed class PostgresRestartTests(OwnPostgresFixture fixture) : IClassFixture<OwnPostgresFixture>
{
    [Fact]
    public async Task While_PostgreSQL_is_down_STOW_and_QIDO_are_503_with_Retry_After_and_after_it_is_back_the_same_service_answers()
    {
        var before = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await Stow(before.Bytes)).StatusCode);
        var query = $"/dicomweb/studies?StudyInstanceUID={before.Study}";

        await fixture.Cluster.PgCtlAsync("stop", "-m", "fast");
        try
        {
            var during = SyntheticInstances.Create();
            using var stow = await Stow(during.Bytes);
            AssertRetryable(stow);
            var (qido, _) = await fixture.Client.QidoAsync(query);
            AssertRetryable(qido);
        }
        finally
        {
            await fixture.Cluster.PgCtlAsync("start");
        }

        // The same service, no restart: its pooled connections to the old server are broken, and what
        // uses one first is a 503 too; then it answers.
        await AnswersAgainAsync(query);
        var after = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await StowUntilStored(after.Bytes)).StatusCode);

        // A crash-like restart (no shutdown checkpoint, every backend killed): the same.
        await fixture.Cluster.PgCtlAsync("restart", "-m", "immediate");
        await AnswersAgainAsync($"/dicomweb/studies?StudyInstanceUID={after.Study}");

        // Nothing acknowledged was lost.
        foreach (var study in new[] { before.Study, after.Study })
        {
            var (response, matches) = await fixture.Client.QidoAsync($"/dicomweb/studies?StudyInstanceUID={study}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(1, matches.GetArrayLength());
        }
    }

    private async Task<HttpResponseMessage> Stow(byte[] instance) =>
        await fixture.Client.PostAsync("/dicomweb/studies", Multipart.Related(instance));

    /// <summary>STOW until it is stored: every answer before that a 503 with Retry-After.</summary>
    private async Task<HttpResponseMessage> StowUntilStored(byte[] instance) =>
        await Eventually.Until(async () =>
        {
            var response = await Stow(instance);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                AssertRetryable(response);
            }

            return response;
        }, r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "a STOW stored after the restart");

    private async Task AnswersAgainAsync(string query) =>
        await Eventually.Until(async () =>
        {
            var (response, matches) = await fixture.Client.QidoAsync(query);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                AssertRetryable(response);
            }

            return (response.StatusCode, Count: response.StatusCode == HttpStatusCode.OK ? matches.GetArrayLength() : 0);
        }, r => r is { StatusCode: HttpStatusCode.OK, Count: 1 }, TimeSpan.FromSeconds(30), "QIDO answering after the restart");

    private static void AssertRetryable(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, $"Retry-After: {response.Headers.RetryAfter}");
    }
}
