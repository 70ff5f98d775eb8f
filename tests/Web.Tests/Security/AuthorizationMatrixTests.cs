using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Security;
using EventSourced.Web.Tests.Support;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourced.Web.Tests.Security;

/// <summary>
/// Every endpoint the app maps (read from its EndpointDataSource, so later endpoints are covered on
/// merge) × no credential (401), a credential of the right tenant without the endpoint's scopes (403),
/// and another tenant's all-scopes credential aimed at this tenant's identifiers (nothing of this
/// tenant in the answer). On /api/v1 the 401/403 bodies are document d's error shape; elsewhere
/// problem details. Anonymous endpoints must be listed here: a new one fails until it is.
/// </summary>
public sealed class AuthorizationMatrixTests(ArchiveProbeFixture fixture) : IClassFixture<ArchiveProbeFixture>
{
    private static readonly HashSet<string> AnonymousAllowList =
    [
        "GET /health/live", "GET /health/ready",
        "GET /openapi/{documentName}.json", "GET /scalar/{documentName?}",
        "GET /scalar/scalar.js", "GET /scalar/scalar.aspnetcore.js", "GET /scalar/favicon.svg",
        "POST /oauth2/token", "GET /oauth2/token", "GET /.well-known/jwks.json",
        // Document b's presigned PUT: the signed URL is the credential (every method is routed so a wrong one is 403).
        "PUT /upload/{uploadId}", "POST /upload/{uploadId}", "GET /upload/{uploadId}", "DELETE /upload/{uploadId}", "PATCH /upload/{uploadId}",
    ];

    private sealed record Route(string Method, string Pattern, string Url, IReadOnlyList<string> Scopes, bool Anonymous)
    {
        public override string ToString() => $"{Method} {Pattern}";
    }

    private sealed record Victim(string StudyUid, string SeriesUid, string SopUid, Guid OrderId, string[] Markers);

    private IReadOnlyList<Route> Routes(Victim victim)
    {
        var routes = new List<Route>();
        foreach (var endpoint in fixture.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            // The /dicomweb read policy is studies.read or a viewer token's study restriction: for these credentials, studies.read.
            var scopes = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).OfType<string>()
                .Select(p => p == ViewerStudyRestriction.PolicyName ? Scopes.StudiesRead : p).Distinct().ToList();
            var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var url = Fill(endpoint.RoutePattern, victim)
                + $"?study_uid={victim.StudyUid}&studyUid={victim.StudyUid}&StudyInstanceUID={victim.StudyUid}&order_id={victim.OrderId}&orderId={victim.OrderId}";
            routes.AddRange(methods.Where(m => m != "OPTIONS" && m != "HEAD").Select(m => new Route(m, endpoint.RoutePattern.RawText ?? "", url, scopes, anonymous)));
        }

        return routes;
    }

    private static string Fill(RoutePattern pattern, Victim victim)
    {
        var path = new System.Text.StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
            {
                path.Append(part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternSeparatorPart separator => separator.Content,
                    RoutePatternParameterPart parameter => Value(parameter, victim),
                    _ => "",
                });
            }
        }

        return path.Length == 0 ? "/" : path.ToString();
    }

    private static string Value(RoutePatternParameterPart parameter, Victim victim)
    {
        var constraints = parameter.ParameterPolicies.Select(p => p.Content).ToList();
        if (constraints.Contains("guid"))
        {
            return victim.OrderId.ToString();
        }

        if (constraints.Contains("int") || constraints.Contains("long"))
        {
            return "1";
        }

        return parameter.Name.ToLowerInvariant() switch
        {
            var n when n.Contains("series") => victim.SeriesUid,
            var n when n.Contains("instance") || n.Contains("sop") => victim.SopUid,
            var n when n.Contains("study") => victim.StudyUid,
            var n when n.Contains("order") => victim.OrderId.ToString(),
            "documentname" => "v1",
            _ => "x",
        };
    }

    private async Task<Victim> SeedVictimAsync(string tenantId)
    {
        var client = await fixture.App.ClientForTenantAsync(tenantId);
        var marker = $"MATRIX{Guid.NewGuid():N}"[..24];
        var (bytes, study, series, sop) = SyntheticInstances.Create();
        var file = DicomReader.Read(bytes);
        file.Dataset.AddString(DicomTag.PatientID, DicomVR.LO, marker);
        file.Dataset.AddString(DicomTag.PatientName, DicomVR.PN, marker + "^VICTIM");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(DicomWriter.ToBytes(file)))).StatusCode);

        var body = Support.Orders.ExampleBody(study);
        body["PatientID"] = marker;
        body["PatientName"] = marker + "^VICTIM";
        var orderId = await client.CreateOkAsync(body);
        return new Victim(study, series, sop, orderId, [marker]);
    }

    [Fact]
    public async Task Anonymous_endpoints_are_exactly_the_allow_listed_ones()
    {
        var victim = new Victim("1.2.3", "1.2.3.4", "1.2.3.4.5", Guid.NewGuid(), []);
        var anonymous = Routes(victim).Where(r => r.Anonymous).Select(r => r.ToString()).ToHashSet();
        Assert.Empty(anonymous.Except(AnonymousAllowList));
        Assert.Empty(AnonymousAllowList.Except(anonymous));
        Assert.True(Routes(victim).Count(r => !r.Anonymous) >= 20, "the endpoint data source should list the whole API");
        Assert.Contains(Routes(victim), r => r.Pattern.StartsWith("/api/v1", StringComparison.Ordinal)); // the /api/v1 shape is exercised
    }

    [Fact]
    public async Task Every_protected_endpoint_is_401_without_a_credential()
    {
        var victim = new Victim("1.2.3", "1.2.3.4", "1.2.3.4.5", Guid.NewGuid(), []);
        var failures = new List<string>();
        foreach (var route in Routes(victim).Where(r => !r.Anonymous))
        {
            var response = await fixture.App.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(route.Method), route.Url));
            await Expect(route, response, HttpStatusCode.Unauthorized, "authentication_failed", failures);
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>The three kinds of credential, each as headers to put on a request.</summary>
    public enum Kind { ApiKey, Bearer, ArchiveUser }

    private int users;

    private async Task<Action<HttpRequestMessage>> CredentialAsync(Kind kind, string tenantId, IReadOnlyList<string> scopes)
    {
        switch (kind)
        {
            case Kind.ApiKey:
                var key = await fixture.App.IssueKeyAsync(tenantId, scopes);
                return request => request.Headers.TryAddWithoutValidation("Authorization", key);
            case Kind.Bearer:
                var token = await fixture.App.TokenAsync(await fixture.App.RegisterClientAsync(tenantId, [.. scopes]));
                return request => request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            default:
                var user = await fixture.App.RegisterUserAsync(tenantId, $"matrix-{Interlocked.Increment(ref users)}-{Guid.NewGuid():N}", [.. scopes]);
                return request =>
                {
                    request.Headers.Add("X-USERNAME", user.Username);
                    request.Headers.Add("X-PASSWORD", user.Password);
                };
        }
    }

    [Theory]
    [InlineData(Kind.ApiKey)]
    [InlineData(Kind.Bearer)]
    [InlineData(Kind.ArchiveUser)]
    public async Task Every_scoped_endpoint_is_403_for_a_credential_without_its_scope(Kind kind)
    {
        var victim = new Victim("1.2.3", "1.2.3.4", "1.2.3.4.5", Guid.NewGuid(), []);
        var failures = new List<string>();
        var scoped = Routes(victim).Where(r => !r.Anonymous && r.Scopes.Count > 0).ToList();
        Assert.NotEmpty(scoped);
        Assert.All(scoped.SelectMany(r => r.Scopes), s => Assert.Contains(s, Scopes.All));
        var credentials = new Dictionary<string, Action<HttpRequestMessage>>();
        foreach (var route in scoped)
        {
            var withheld = string.Join(",", route.Scopes.Order());
            if (!credentials.TryGetValue(withheld, out var credential))
            {
                credential = credentials[withheld] = await CredentialAsync(kind, "matrix-a", [.. Scopes.All.Except(route.Scopes)]);
            }

            var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Url);
            credential(request);
            var response = await fixture.App.CreateClient().SendAsync(request);
            await Expect(route, response, HttpStatusCode.Forbidden, "api_call_not_allowed", failures);
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData(Kind.ApiKey)]
    [InlineData(Kind.Bearer)]
    [InlineData(Kind.ArchiveUser)]
    public async Task No_endpoint_gives_another_tenants_credential_anything_of_this_tenant(Kind kind)
    {
        var victimTenant = $"matrix-victim-{kind.ToString().ToLowerInvariant()}";
        var victim = await SeedVictimAsync(victimTenant);
        var intruder = await CredentialAsync(kind, $"matrix-intruder-{kind.ToString().ToLowerInvariant()}", [.. Scopes.All]);
        var failures = new List<string>();
        var checkedRoutes = 0;
        foreach (var route in Routes(victim).Where(r => !r.Anonymous))
        {
            var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Url);
            intruder(request);
            var response = await fixture.App.CreateClient().SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            checkedRoutes++;
            if ((int)response.StatusCode >= 500 || response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                failures.Add($"{route}: {(int)response.StatusCode}");
            }

            foreach (var marker in victim.Markers.Where(m => body.Contains(m, StringComparison.Ordinal)))
            {
                failures.Add($"{route}: {(int)response.StatusCode} leaks {marker}");
            }
        }

        Assert.True(checkedRoutes >= 20);
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // The seed is real: the victim itself sees its marker through the same kind of request.
        var owner = await fixture.App.ClientForTenantAsync(victimTenant);
        Assert.Contains(victim.Markers[0], await owner.GetStringAsync($"/dicomweb/studies?StudyInstanceUID={victim.StudyUid}"));
    }

    private static async Task Expect(Route route, HttpResponseMessage response, HttpStatusCode status, string archiveErrorType, List<string> failures)
    {
        if (response.StatusCode != status)
        {
            failures.Add($"{route}: {(int)response.StatusCode}, expected {(int)status}");
            return;
        }

        if (route.Pattern.StartsWith("/api/v1", StringComparison.OrdinalIgnoreCase) || route.Pattern.StartsWith("api/v1", StringComparison.OrdinalIgnoreCase))
        {
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (!body.TryGetProperty("error_type", out var type) || type.GetString() != archiveErrorType)
            {
                failures.Add($"{route}: not document d's error shape: {body}");
            }
        }
        else if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            failures.Add($"{route}: {response.Content.Headers.ContentType}, expected problem details");
        }
    }
}
