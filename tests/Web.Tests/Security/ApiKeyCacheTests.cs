using System.Net;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Security;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Security;

/// <summary>A clock the tests move, so an API key's cached entry runs out when a test says so.</summary>
public sealed class KeyCacheClockFixture : ServiceFixture
{
    public TestClock Clock { get; } = new();

    protected override Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? Services => Clock.Register;
}

/// <summary>
/// What the API key cache (a credential, its principal and the last secret that matched, per key id) must not
/// change: a wrong secret is refused however often the key id was seen with the right one, each key keeps its
/// own tenant and scopes, and a revoked key is refused once its entry has run out (ApiKeyCache.Lifetime).
/// </summary>
public sealed class ApiKeyCacheTests(KeyCacheClockFixture fixture) : IClassFixture<KeyCacheClockFixture>
{
    private const string Route = "/status?study_uid=1.2.3";

    private HttpClient With(string key)
    {
        var client = fixture.App.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        return client;
    }

    [Fact]
    public async Task A_tampered_secret_of_a_key_in_use_is_401_before_and_after_the_right_one()
    {
        var key = await fixture.App.IssueKeyAsync("key-cache-a", [.. Scopes.All]);
        var tampered = key[..^1] + (key[^1] == 'A' ? 'B' : 'A');
        var truncated = key[..^1];
        using var right = With(key);
        using var wrong = With(tampered);
        using var shorter = With(truncated);

        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(Route)).StatusCode);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await right.GetAsync(Route)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(Route)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await shorter.GetAsync(Route)).StatusCode);
        }
    }

    [Fact]
    public async Task Keys_used_in_turn_keep_their_own_tenant_and_scopes()
    {
        var reader = await fixture.App.IssueKeyAsync("key-cache-b", [Scopes.OrdersRead]);
        var writer = await fixture.App.IssueKeyAsync("key-cache-c", [Scopes.OrdersWrite]);
        using var asReader = With(reader);
        using var asWriter = With(writer);
        var created = await asWriter.CreateOkAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid()));

        for (var i = 0; i < 3; i++)
        {
            // The reader may read, but not in the writer's tenant; the writer may not read at all.
            Assert.Equal(HttpStatusCode.NotFound, (await asReader.GetAsync($"/status?order_id={created}")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await asWriter.GetAsync($"/status?order_id={created}")).StatusCode);
        }
    }

    [Fact]
    public async Task A_revoked_key_in_use_is_401_once_its_cached_entry_has_run_out()
    {
        var key = await fixture.App.IssueKeyAsync("key-cache-d", [.. Scopes.All]);
        using var client = With(key);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(Route)).StatusCode);

        await Application.Tenants.TenantAdministration.RevokeApiKeyAsync(
            fixture.App.Store, "key-cache-d", key.Split('_')[1], new("tests", "tests"), DateTimeOffset.UtcNow, CancellationToken.None);
        fixture.Clock.Advance(ApiKeyCache.Lifetime + TimeSpan.FromSeconds(1));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(Route)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(Route)).StatusCode);
    }

    [Fact]
    public async Task A_key_whose_entry_ran_out_is_read_again_and_still_accepted()
    {
        var key = await fixture.App.IssueKeyAsync("key-cache-e", [.. Scopes.All]);
        using var client = With(key);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(Route)).StatusCode);
        fixture.Clock.Advance(ApiKeyCache.Lifetime + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(Route)).StatusCode);
    }
}
