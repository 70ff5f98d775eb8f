using System.Net;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Security;

public sealed class AuthenticationTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    public static TheoryData<string, string> ProtectedRoutes() => new()
    {
        { "POST", "/o3-dpacs-wado/orders/create" },
        { "DELETE", "/o3-dpacs-wado/orders/delete?studyUid=1.2.3" },
        { "GET", "/status?study_uid=1.2.3" },
        { "GET", "/orderId?study_uid=1.2.3" },
        { "PATCH", "/add-metadata?study_uid=1.2.3" },
        { "GET", "/admin/orders/0190a6f0-0000-7000-8000-000000000000/history" },
        { "GET", "/no/such/route" },
    };

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public async Task Without_an_Authorization_header_every_route_is_401(string method, string url)
    {
        var response = await fixture.App.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), url));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("wrong")]
    [InlineData("esk_0123456789abcdef_notthesecret")]
    [InlineData("Bearer abc")]
    public async Task A_wrong_API_key_is_401(string key)
    {
        var client = fixture.App.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/status?study_uid=1.2.3")).StatusCode);
    }

    [Fact]
    public async Task A_valid_key_id_with_a_tampered_secret_is_401()
    {
        var key = await fixture.App.IssueKeyAsync("auth-tests", [.. Scopes.All]);
        var client = fixture.App.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key[..^1] + (key[^1] == 'A' ? 'B' : 'A'));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/status?study_uid=1.2.3")).StatusCode);
    }

    [Fact]
    public async Task A_revoked_key_is_401()
    {
        var key = await fixture.App.IssueKeyAsync("auth-tests", [.. Scopes.All]);
        var keyId = key.Split('_')[1];
        await EventSourced.Application.Tenants.TenantAdministration.RevokeApiKeyAsync(
            fixture.App.Store, "auth-tests", keyId, new("tests", "tests"), DateTimeOffset.UtcNow, CancellationToken.None);
        var client = fixture.App.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/status?study_uid=1.2.3")).StatusCode);
    }

    [Fact]
    public async Task A_key_without_the_scope_is_403()
    {
        var readOnly = await fixture.App.ClientForTenantAsync("auth-tests", Scopes.OrdersRead);
        var response = await readOnly.CreateAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid()));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await readOnly.GetAsync("/status?study_uid=1.2.3.4")).StatusCode);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/scalar/v1")]
    public async Task Health_and_the_API_reference_are_anonymous(string url)
    {
        var response = await fixture.App.CreateClient().GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_order_routes()
    {
        var text = await fixture.App.CreateClient().GetStringAsync("/openapi/v1.json");
        Assert.Contains("/o3-dpacs-wado/orders/create", text);
        Assert.Contains("/add-metadata", text);
        Assert.Contains("/status", text);
    }
}
