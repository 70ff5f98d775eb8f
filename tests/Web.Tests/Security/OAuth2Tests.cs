using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Security;
using EventSourced.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventSourced.Web.Tests.Security;

/// <summary>The token endpoint (RFC 6749 §4.4, §5.2), the bearer scheme's validation, and key rotation.</summary>
public sealed class OAuth2Tests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private AppFactory App => fixture.App;

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostTokenAsync(FormUrlEncodedContent form, AuthenticationHeaderValue? authorization = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/oauth2/token") { Content = form };
        request.Headers.Authorization = authorization;
        var response = await App.CreateClient().SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>(), response);
    }

    private HttpClient Bearer(string token)
    {
        var http = App.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    [Fact]
    public async Task Basic_client_authentication_issues_a_one_hour_bearer_token_that_opens_the_API()
    {
        var client = await App.RegisterClientAsync("oauth-a", Scopes.OrdersRead, Scopes.OrdersWrite);
        var (status, body, response) = await PostTokenAsync(Form(("grant_type", "client_credentials")), Credentials.Basic(client.ClientId, client.ClientSecret));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal(3600, body.GetProperty("expires_in").GetInt32());
        Assert.Equal("orders.read orders.write", body.GetProperty("scope").GetString());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());

        var jwt = new JsonWebToken(body.GetProperty("access_token").GetString()!);
        Assert.Equal("RS256", jwt.Alg);
        Assert.Equal("at+jwt", jwt.Typ);
        Assert.Equal("oauth-a", jwt.GetPayloadValue<string>("tenant"));
        Assert.Equal(client.ClientId, jwt.Subject);
        Assert.Equal(TimeSpan.FromHours(1), jwt.ValidTo - jwt.IssuedAt);

        var api = Bearer(body.GetProperty("access_token").GetString()!);
        var orderId = await api.CreateOkAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid()));
        Assert.Equal("scheduled", await api.StatusOfAsync(orderId));
    }

    [Fact]
    public async Task Form_client_authentication_works_and_scope_narrows_the_token()
    {
        var client = await App.RegisterClientAsync("oauth-a", Scopes.OrdersRead, Scopes.OrdersWrite);
        var (status, body, _) = await PostTokenAsync(Form(
            ("grant_type", "client_credentials"), ("client_id", client.ClientId), ("client_secret", client.ClientSecret), ("scope", "status")));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("orders.read", body.GetProperty("scope").GetString());
        var api = Bearer(body.GetProperty("access_token").GetString()!);
        var forbidden = await api.CreateAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid()));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("Bearer error=\"insufficient_scope\"", forbidden.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/status?order_id={Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task A_scope_beyond_the_clients_or_unknown_is_invalid_scope()
    {
        var client = await App.RegisterClientAsync("oauth-a", Scopes.OrdersRead);
        var basic = Credentials.Basic(client.ClientId, client.ClientSecret);
        foreach (var scope in new[] { "orders.write", "ingest", "no-such-scope", "status admin" })
        {
            var (status, body, _) = await PostTokenAsync(Form(("grant_type", "client_credentials"), ("scope", scope)), basic);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("invalid_scope", body.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task A_wrong_secret_or_unknown_client_is_invalid_client_401()
    {
        var client = await App.RegisterClientAsync("oauth-a", Scopes.OrdersRead);

        var (status, body, response) = await PostTokenAsync(Form(("grant_type", "client_credentials")), Credentials.Basic(client.ClientId, client.ClientSecret + "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", body.GetProperty("error").GetString());
        Assert.Equal("Basic", response.Headers.WwwAuthenticate.Single().Scheme);

        (status, body, _) = await PostTokenAsync(Form(("grant_type", "client_credentials"), ("client_id", "oauth-a.ffffffffffffffff"), ("client_secret", client.ClientSecret)));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", body.GetProperty("error").GetString());

        (status, body, _) = await PostTokenAsync(Form(("grant_type", "client_credentials")));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("password", "unsupported_grant_type")]
    [InlineData("authorization_code", "unsupported_grant_type")]
    [InlineData("", "invalid_request")]
    public async Task Other_grants_are_refused_in_RFC_6749_shape(string grantType, string error)
    {
        var client = await App.RegisterClientAsync("oauth-a", Scopes.OrdersRead);
        var (status, body, _) = await PostTokenAsync(Form(("grant_type", grantType)), Credentials.Basic(client.ClientId, client.ClientSecret));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(error, body.GetProperty("error").GetString());
        Assert.True(body.TryGetProperty("error_description", out _));
    }

    [Fact]
    public async Task A_JSON_body_is_invalid_request()
    {
        var response = await App.CreateClient().PostAsync("/oauth2/token", Json.Body("""{"grant_type":"client_credentials"}""", "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_documents_GET_form_answers_with_Basic_or_query_credentials()
    {
        var client = await App.RegisterClientAsync("oauth-a", Scopes.OrdersRead, Scopes.OrdersWrite);
        var request = new HttpRequestMessage(HttpMethod.Get, "/oauth2/token?scope=status");
        request.Headers.Authorization = Credentials.Basic(client.ClientId, client.ClientSecret);
        var response = await App.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("orders.read", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("scope").GetString());

        var query = await App.CreateClient().GetAsync(
            $"/oauth2/token?grant_type=client_credentials&client_id={Uri.EscapeDataString(client.ClientId)}&client_secret={Uri.EscapeDataString(client.ClientSecret)}");
        Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        var token = (await query.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.NotFound, (await Bearer(token).GetAsync($"/status?order_id={Guid.NewGuid()}")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await App.CreateClient().GetAsync("/oauth2/token")).StatusCode);
    }

    [Fact]
    public async Task Expired_tampered_foreign_and_unsigned_tokens_are_401_with_a_Bearer_challenge()
    {
        var client = await App.RegisterClientAsync("oauth-a", Scopes.OrdersRead);
        var tokens = App.Services.GetRequiredService<AccessTokens>();
        var ring = App.Services.GetRequiredService<SigningKeyRing>();
        var (_, signing) = await ring.CurrentAsync(CancellationToken.None);

        // Expired: issued two hours ago, one-hour lifetime, past the 30-second skew.
        var (expired, _, _) = await tokens.IssueAsync("oauth-a", client.ClientId, [Scopes.OrdersRead], CancellationToken.None, DateTimeOffset.UtcNow.AddHours(-2));

        // Tampered: the tenant claim changed after signing.
        var good = await App.TokenAsync(client);
        var parts = good.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("\"oauth-a\"", "\"oauth-b\"");
        var tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";

        // Signed by our own key, but for another issuer or audience.
        string Mint(string issuer, string audience, SigningCredentials credentials, string type = "at+jwt") => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer, Audience = audience, Expires = DateTime.UtcNow.AddMinutes(10), SigningCredentials = credentials, TokenType = type,
            Claims = new Dictionary<string, object> { ["sub"] = client.ClientId, ["tenant"] = "oauth-a", ["scope"] = Scopes.OrdersRead },
        });
        var options = tokens.Options;
        var wrongIssuer = Mint("urn:someone-else", options.Audience, signing);
        var wrongAudience = Mint(options.Issuer, "urn:someone-else:api", signing);
        var wrongType = Mint(options.Issuer, options.Audience, signing, "JWT");
        var foreignKey = Mint(options.Issuer, options.Audience, new SigningCredentials(new RsaSecurityKey(System.Security.Cryptography.RSA.Create(2048)) { KeyId = ((RsaSecurityKey)signing.Key).KeyId }, "RS256"));
        var symmetric = Mint(options.Issuer, options.Audience, new SigningCredentials(new SymmetricSecurityKey(new byte[32]) { KeyId = ((RsaSecurityKey)signing.Key).KeyId }, "HS256"));

        // alg none: a valid header and payload with no signature.
        var none = Base64UrlEncoder.Encode("""{"alg":"none","typ":"at+jwt"}""") + "." + parts[1] + ".";

        // Sanity: the good one passes, so each failure below is the defect named.
        Assert.Equal(HttpStatusCode.NotFound, (await Bearer(good).GetAsync($"/status?order_id={Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Bearer(Mint(options.Issuer, options.Audience, signing)).GetAsync($"/status?order_id={Guid.NewGuid()}")).StatusCode);

        foreach (var (what, token) in new[]
                 {
                     ("expired", expired), ("tampered", tampered), ("wrong issuer", wrongIssuer), ("wrong audience", wrongAudience),
                     ("wrong type", wrongType), ("foreign key", foreignKey), ("HS256", symmetric), ("alg none", none), ("garbage", "abc.def.ghi"),
                 })
        {
            var response = await Bearer(token).GetAsync($"/status?order_id={Guid.NewGuid()}");
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{what}: {response.StatusCode}");
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task A_token_of_one_tenant_never_sees_anothers_order()
    {
        var tenantA = await App.BearerClientAsync("oauth-a");
        var tenantB = await App.BearerClientAsync("oauth-b");
        var studyUid = Support.Orders.NewStudyUid();
        var orderB = await tenantB.CreateOkAsync(Support.Orders.ExampleBody(studyUid));

        Assert.Equal(HttpStatusCode.NotFound, (await tenantA.GetAsync($"/status?order_id={orderB}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await tenantA.GetAsync($"/status?study_uid={studyUid}")).StatusCode);
        Assert.Equal("scheduled", await tenantB.StatusOfAsync(orderB));
    }

    [Fact]
    public async Task A_revoked_clients_tokens_stop_working_at_once()
    {
        var client = await App.RegisterClientAsync("oauth-a", Scopes.OrdersRead);
        var token = await App.TokenAsync(client);
        Assert.Equal(HttpStatusCode.NotFound, (await Bearer(token).GetAsync($"/status?order_id={Guid.NewGuid()}")).StatusCode);

        await Application.Tenants.ClientsAndUsers.RevokeClientAsync(App.Store, "oauth-a", client.ClientId, new("tests", "tests"), DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer(token).GetAsync($"/status?order_id={Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task After_a_rotation_old_tokens_still_validate_new_ones_use_the_new_kid_and_JWKS_lists_both()
    {
        var client = await App.RegisterClientAsync("oauth-a", Scopes.OrdersRead);
        var admin = await App.ClientForTenantAsync("oauth-a", Scopes.Admin);
        var before = await App.TokenAsync(client);

        var rotated = await admin.PostAsync("/admin/signing-keys/rotate", null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var newKid = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("kid").GetString();

        var after = await App.TokenAsync(client);
        Assert.NotEqual(new JsonWebToken(before).Kid, new JsonWebToken(after).Kid);
        Assert.Equal(newKid, new JsonWebToken(after).Kid);
        Assert.Equal(HttpStatusCode.NotFound, (await Bearer(before).GetAsync($"/status?order_id={Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Bearer(after).GetAsync($"/status?order_id={Guid.NewGuid()}")).StatusCode);

        var jwks = await App.CreateClient().GetAsync("/.well-known/jwks.json");
        Assert.Equal(HttpStatusCode.OK, jwks.StatusCode);
        var set = new JsonWebKeySet(await jwks.Content.ReadAsStringAsync());
        Assert.Contains(set.Keys, k => k.Kid == new JsonWebToken(before).Kid);
        Assert.Contains(set.Keys, k => k.Kid == newKid);
        Assert.All(set.Keys, k => Assert.False(k.HasPrivateKey));

        // The published keys alone verify a token (what an external resource server would do).
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(after, new TokenValidationParameters
        {
            ValidIssuer = App.Services.GetRequiredService<AccessTokens>().Options.Issuer,
            ValidAudience = App.Services.GetRequiredService<AccessTokens>().Options.Audience,
            IssuerSigningKeys = set.Keys,
        });
        Assert.True(validation.IsValid, validation.Exception?.Message);

        // Rotation is admin-only.
        var notAdmin = await App.ClientForTenantAsync("oauth-a", Scopes.OrdersRead);
        Assert.Equal(HttpStatusCode.Forbidden, (await notAdmin.PostAsync("/admin/signing-keys/rotate", null)).StatusCode);
    }
}
