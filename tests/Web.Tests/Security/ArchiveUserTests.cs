using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Carter;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Security;
using EventSourced.Web.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EventSourced.Web.Tests.Security;

/// <summary>
/// A test-only /api/v1 call (the real archive calls are another slice's): needs document d's
/// api_get_patient and answers with the principal it saw. Added by <see cref="ArchiveProbeFixture"/>.
/// </summary>
public sealed class ArchiveProbeModule : ICarterModule
{
    public const string Path = "/api/v1/test-probe/whoami/";

    public void AddRoutes(IEndpointRouteBuilder app) =>
        app.MapGet(Path, (System.Security.Claims.ClaimsPrincipal user) => TypedResults.Ok(new { tenant = user.TenantId(), sub = user.Subject() }))
            .RequireAuthorization(Scopes.Archive.GetPatient).ExcludeFromDescription();
}

/// <summary>The service with <see cref="ArchiveProbeModule"/> mapped.</summary>
public class ArchiveProbeFixture : ServiceFixture
{
    protected override Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? Services =>
        services => Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<ICarterModule, ArchiveProbeModule>(services);
}

public sealed class ArchiveUserTests(ArchiveProbeFixture fixture) : IClassFixture<ArchiveProbeFixture>
{
    private static async Task AssertArchiveError(HttpResponseMessage response, HttpStatusCode status, string errorType)
    {
        Assert.Equal(status, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(errorType, body.GetProperty("error_type").GetString());
        Assert.True(body.TryGetProperty("suberror_type", out _));
        Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task The_right_username_and_password_authenticate_as_the_users_tenant()
    {
        var user = await fixture.App.RegisterUserAsync("archive-a", "alice@archive-a", Scopes.Archive.GetPatient);
        var response = await fixture.App.UserClient(user.Username, user.Password).GetAsync(ArchiveProbeModule.Path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("archive-a", body.GetProperty("tenant").GetString());
        Assert.Equal("alice@archive-a", body.GetProperty("sub").GetString());

        // The stored hash is the slow, salted one with its parameters.
        await using var session = fixture.App.Store.QuerySession();
        var stored = await session.LoadAsync<Projections.Tenants.ArchiveUserCredential>("alice@archive-a");
        Assert.StartsWith("pbkdf2-sha256$600000$", stored!.PasswordHash);
        Assert.DoesNotContain(user.Password, stored.PasswordHash);
    }

    [Fact]
    public async Task Wrong_missing_or_unknown_credentials_are_401_in_document_ds_shape()
    {
        var user = await fixture.App.RegisterUserAsync("archive-a", "bob@archive-a", Scopes.Archive.GetPatient);
        await AssertArchiveError(await fixture.App.UserClient(user.Username, user.Password + "x").GetAsync(ArchiveProbeModule.Path), HttpStatusCode.Unauthorized, "authentication_failed");
        await AssertArchiveError(await fixture.App.UserClient("nobody@nowhere", user.Password).GetAsync(ArchiveProbeModule.Path), HttpStatusCode.Unauthorized, "authentication_failed");
        await AssertArchiveError(await fixture.App.CreateClient().GetAsync(ArchiveProbeModule.Path), HttpStatusCode.Unauthorized, "authentication_failed");

        var usernameOnly = fixture.App.CreateClient();
        usernameOnly.DefaultRequestHeaders.Add("X-USERNAME", user.Username);
        await AssertArchiveError(await usernameOnly.GetAsync(ArchiveProbeModule.Path), HttpStatusCode.Unauthorized, "authentication_failed");

        // Any scheme's failure on /api/v1 answers in that shape, a bad bearer token too; elsewhere problem details.
        var bearer = fixture.App.CreateClient();
        bearer.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer not-a-token");
        await AssertArchiveError(await bearer.GetAsync(ArchiveProbeModule.Path), HttpStatusCode.Unauthorized, "authentication_failed");
        var elsewhere = await fixture.App.UserClient(user.Username, user.Password + "x").GetAsync("/status?study_uid=1.2.3");
        Assert.Equal(HttpStatusCode.Unauthorized, elsewhere.StatusCode);
        Assert.Equal("application/problem+json", elsewhere.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_missing_permission_is_403_api_call_not_allowed_for_every_scheme()
    {
        var user = await fixture.App.RegisterUserAsync("archive-a", "carol@archive-a", Scopes.Archive.ListStudies);
        await AssertArchiveError(await fixture.App.UserClient(user.Username, user.Password).GetAsync(ArchiveProbeModule.Path), HttpStatusCode.Forbidden, "api_call_not_allowed");

        var apiKey = await fixture.App.ClientForTenantAsync("archive-a", Scopes.OrdersRead);
        await AssertArchiveError(await apiKey.GetAsync(ArchiveProbeModule.Path), HttpStatusCode.Forbidden, "api_call_not_allowed");

        var bearer = await fixture.App.BearerClientAsync("archive-a", Scopes.OrdersRead);
        await AssertArchiveError(await bearer.GetAsync(ArchiveProbeModule.Path), HttpStatusCode.Forbidden, "api_call_not_allowed");
        Assert.Equal(HttpStatusCode.OK, (await (await fixture.App.BearerClientAsync("archive-a", Scopes.Archive.GetPatient)).GetAsync(ArchiveProbeModule.Path)).StatusCode);
    }

    [Fact]
    public async Task A_user_holding_ordinary_scopes_uses_the_rest_of_the_API_in_its_own_tenant_only()
    {
        var user = await fixture.App.RegisterUserAsync("archive-a", "dave@archive-a", Scopes.OrdersRead, Scopes.OrdersWrite);
        var other = await fixture.App.ClientForTenantAsync("archive-b");
        var orderB = await other.CreateOkAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid()));

        var client = fixture.App.UserClient(user.Username, user.Password);
        var orderA = await client.CreateOkAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid()));
        Assert.Equal("scheduled", await client.StatusOfAsync(orderA));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/status?order_id={orderB}")).StatusCode);
    }

    [Fact]
    public async Task Usernames_are_unique_across_tenants()
    {
        await fixture.App.RegisterUserAsync("archive-a", "erin@archive", Scopes.Archive.GetPatient);
        var (registered, rejected) = await Application.Tenants.ClientsAndUsers.RegisterUserAsync(
            fixture.App.Store, "archive-b", "erin@archive", null, [Scopes.Archive.GetPatient], new("tests", "tests"), DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Null(registered);
        Assert.Equal(Domain.Common.RejectionKind.Conflict, rejected!.Kind);
    }
}

/// <summary>Its own service: the throttle is per process and per client address, which the other tests share.</summary>
public sealed class ArchiveThrottleTests(ArchiveProbeFixture fixture) : IClassFixture<ArchiveProbeFixture>
{
    [Fact]
    public async Task Five_failures_throttle_the_username_with_429_even_for_the_right_password()
    {
        var user = await fixture.App.RegisterUserAsync("throttle-a", "frank@throttle-a", Scopes.Archive.GetPatient);
        var wrong = fixture.App.UserClient(user.Username, "definitely-not-the-password");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(ArchiveProbeModule.Path)).StatusCode);
        }

        var right = await fixture.App.UserClient(user.Username, user.Password).GetAsync(ArchiveProbeModule.Path);
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        Assert.True(right.Headers.RetryAfter?.Delta > TimeSpan.FromMinutes(10));
        var body = await right.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(ArchiveUserAuthenticationHandler.ArchiveErrorsTooManyAttempts, body.GetProperty("error_type").GetString());

        // Another user from the same address is not locked by this one's failures (the address limit is higher).
        var other = await fixture.App.RegisterUserAsync("throttle-a", "grace@throttle-a", Scopes.Archive.GetPatient);
        Assert.Equal(HttpStatusCode.OK, (await fixture.App.UserClient(other.Username, other.Password).GetAsync(ArchiveProbeModule.Path)).StatusCode);
    }

    [Fact]
    public async Task A_success_before_the_limit_clears_the_usernames_failures()
    {
        var user = await fixture.App.RegisterUserAsync("throttle-a", "heidi@throttle-a", Scopes.Archive.GetPatient);
        var wrong = fixture.App.UserClient(user.Username, "definitely-not-the-password");
        var right = fixture.App.UserClient(user.Username, user.Password);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(ArchiveProbeModule.Path)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await right.GetAsync(ArchiveProbeModule.Path)).StatusCode);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(ArchiveProbeModule.Path)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await right.GetAsync(ArchiveProbeModule.Path)).StatusCode);
    }
}

public sealed class PasswordHashTests
{
    [Fact]
    public void A_hash_is_salted_carries_its_parameters_and_verifies_only_the_password()
    {
        var first = Application.Tenants.Passwords.Hash("correct horse battery", iterations: 1000);
        var second = Application.Tenants.Passwords.Hash("correct horse battery", iterations: 1000);
        Assert.NotEqual(first, second); // salted
        Assert.StartsWith("pbkdf2-sha256$1000$", first);
        Assert.True(Application.Tenants.Passwords.Verify("correct horse battery", first));
        Assert.False(Application.Tenants.Passwords.Verify("correct horse batterY", first));

        // The stored iteration count is the one used: changing it fails verification.
        Assert.False(Application.Tenants.Passwords.Verify("correct horse battery", first.Replace("$1000$", "$1001$")));
        Assert.False(Application.Tenants.Passwords.Verify("correct horse battery", "sha1$1000$c2FsdA==$aGFzaA=="));
        Assert.False(Application.Tenants.Passwords.Verify("correct horse battery", "garbage"));
        Assert.False(Application.Tenants.Passwords.Verify("correct horse battery", "pbkdf2-sha256$1000$not base64!$aGFzaA=="));
    }
}
