using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Application.Tenants;
using EventSourced.Domain.Common;

namespace EventSourced.Web.Tests.Support;

/// <summary>OAuth2 clients, bearer tokens and X-USERNAME users for tests, beside <see cref="AppFactory.ClientForTenantAsync"/>'s API keys.</summary>
public static class Credentials
{
    private static readonly Actor By = new("tests", "tests");

    public static async Task<RegisteredClient> RegisterClientAsync(this AppFactory app, string tenantId, params string[] scopes)
    {
        await TenantAdministration.RegisterTenantAsync(app.Store, tenantId, tenantId, By, DateTimeOffset.UtcNow, CancellationToken.None);
        var (registered, rejected) = await ClientsAndUsers.RegisterClientAsync(
            app.Store, tenantId, scopes.Length == 0 ? [.. Domain.Tenants.Scopes.All] : scopes, By, DateTimeOffset.UtcNow, CancellationToken.None);
        return registered ?? throw new InvalidOperationException(rejected!.Detail);
    }

    public static async Task<RegisteredUser> RegisterUserAsync(this AppFactory app, string tenantId, string username, params string[] permissions)
    {
        await TenantAdministration.RegisterTenantAsync(app.Store, tenantId, tenantId, By, DateTimeOffset.UtcNow, CancellationToken.None);
        var (registered, rejected) = await ClientsAndUsers.RegisterUserAsync(
            app.Store, tenantId, username, null, permissions.Length == 0 ? [.. Domain.Tenants.Scopes.All] : permissions, By, DateTimeOffset.UtcNow, CancellationToken.None);
        return registered ?? throw new InvalidOperationException(rejected!.Detail);
    }

    /// <summary>POST /oauth2/token with client_secret_basic; the access token.</summary>
    public static async Task<string> TokenAsync(this AppFactory app, RegisteredClient client, string? scope = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent(scope is null
                ? [new("grant_type", "client_credentials")]
                : [new("grant_type", "client_credentials"), new("scope", scope)]),
        };
        request.Headers.Authorization = Basic(client.ClientId, client.ClientSecret);
        var response = await app.CreateClient().SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    public static async Task<HttpClient> BearerClientAsync(this AppFactory app, string tenantId, params string[] scopes)
    {
        var token = await app.TokenAsync(await app.RegisterClientAsync(tenantId, scopes));
        var http = app.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public static HttpClient UserClient(this AppFactory app, string username, string password)
    {
        var http = app.CreateClient();
        http.DefaultRequestHeaders.Add("X-USERNAME", username);
        http.DefaultRequestHeaders.Add("X-PASSWORD", password);
        return http;
    }

    public static AuthenticationHeaderValue Basic(string id, string secret) =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(id)}:{Uri.EscapeDataString(secret)}")));
}
