using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EventSourced.Domain.Access;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Security;
using EventSourced.Web.Tests.Support;
using Marten;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourced.Web.Tests.Access;

/// <summary>
/// Document c: <c>GET /token</c> issues a signed, expiring token granting QIDO-RS and WADO-RS of exactly one
/// study under /dicomweb, and nothing else; every use is an access event.
/// </summary>
public sealed class ViewerTokenTests(ViewerTokenTests.Fixture fixture) : IClassFixture<ViewerTokenTests.Fixture>
{
    private const string Tenant = "viewer-tests";

    /// <summary>Two studies of the tenant (one instance each) and one of another tenant, stored once for the class.</summary>
    public sealed class Fixture : ServiceFixture, IAsyncLifetime
    {
        public (byte[] Bytes, string Study, string Series, string Sop) Granted { get; private set; }
        public (byte[] Bytes, string Study, string Series, string Sop) Other { get; private set; }
        public HttpClient Client { get; private set; } = null!;

        public new async Task InitializeAsync()
        {
            await base.InitializeAsync();
            Client = await App.ClientForTenantAsync(Tenant);
            Granted = SyntheticInstances.Create();
            Other = SyntheticInstances.Create();
            Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync("/dicomweb/studies", Multipart.Related(Granted.Bytes, Other.Bytes))).StatusCode);
        }
    }

    private async Task<string> TokenAsync(string query)
    {
        var response = await fixture.Client.GetAsync($"/token?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Object, body.ValueKind);
        Assert.Single(body.EnumerateObject());
        return body.GetProperty("token").GetString()!;
    }

    private HttpClient Viewer(string token)
    {
        var client = fixture.App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private async Task<List<ViewerTokenUsed>> UsesAsync(string token, string tenant = Tenant)
    {
        var payload = JsonDocument.Parse(WebEncoders.Base64UrlDecode(token.Split('.')[1])).RootElement;
        var id = payload.GetProperty("Id").GetGuid();
        await using var session = fixture.App.Store.QuerySession(tenant);
        var events = await session.Events.FetchStreamAsync(id);
        Assert.IsType<ViewerTokenIssued>(events[0].Data);
        return [.. events.Skip(1).Select(e => Assert.IsType<ViewerTokenUsed>(e.Data))];
    }

    [Fact]
    public async Task Issuing_validates_its_parameters_and_needs_studies_read()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.App.CreateClient().GetAsync($"/token?studyUID={fixture.Granted.Study}")).StatusCode);
        var writer = await fixture.App.ClientForTenantAsync(Tenant, Scopes.StudiesWrite);
        Assert.Equal(HttpStatusCode.Forbidden, (await writer.GetAsync($"/token?studyUID={fixture.Granted.Study}")).StatusCode);

        foreach (var bad in new[] { "", "patientID=P1", "studyUID=", "studyUID=not-a-uid", $"studyUID={fixture.Granted.Study}&role=admin",
                     $"studyUID={fixture.Granted.Study}&role=PATIENT", $"studyUID={fixture.Granted.Study}&studyUID=1.2.3" })
        {
            var response = await fixture.Client.GetAsync($"/token?{bad}");
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"'{bad}' answered {response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.StartsWith("vt_", await TokenAsync($"studyUID={fixture.Granted.Study}"), StringComparison.Ordinal);
        Assert.StartsWith("vt_", await TokenAsync($"studyUID={fixture.Granted.Study}&patientID=P1&user=dr.who&role=diagnostic"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_token_reads_its_study_through_QIDO_and_WADO()
    {
        var token = await TokenAsync($"studyUID={fixture.Granted.Study}&user=jane");
        var viewer = Viewer(token);
        var (bytes, study, series, sop) = fixture.Granted;

        var studies = await viewer.GetAsync("/dicomweb/studies");
        Assert.Equal(HttpStatusCode.OK, studies.StatusCode);
        var only = Assert.Single((await studies.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray());
        Assert.Equal(study, only.GetProperty("0020000D").GetProperty("Value")[0].GetString());

        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/dicomweb/studies/{study}/series")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/dicomweb/studies/{study}/metadata")).StatusCode);
        Assert.Single((await (await viewer.GetAsync("/dicomweb/instances")).Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray());
        var retrieved = await viewer.GetAsync($"/dicomweb/studies/{study}/series/{series}/instances/{sop}");
        Assert.Equal(bytes, Assert.Single(await Ingestion.CorpusRoundTripTests.PartsAsync(retrieved)));

        // The query-parameter carrier, for viewers that load images by URL.
        var byUrl = await fixture.App.CreateClient().GetAsync($"/dicomweb/studies/{study}/series/{series}/instances/{sop}?token={Uri.EscapeDataString(token)}");
        Assert.Equal(bytes, Assert.Single(await Ingestion.CorpusRoundTripTests.PartsAsync(byUrl)));
        Assert.Equal(HttpStatusCode.OK, (await fixture.App.CreateClient().GetAsync($"/dicomweb/studies?token={Uri.EscapeDataString(token)}")).StatusCode);
    }

    [Fact]
    public async Task The_token_reads_no_other_study()
    {
        var viewer = Viewer(await TokenAsync($"studyUID={fixture.Granted.Study}"));
        var (_, other, series, sop) = fixture.Other;

        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/dicomweb/studies/{other}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/dicomweb/studies/{other}/metadata")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/dicomweb/studies/{other}/series")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/dicomweb/studies/{other}/series/{series}/instances/{sop}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/dicomweb/studies/{other}/series/{series}/instances/{sop}/rendered")).StatusCode);

        // A search asking for the other study by its UID (by keyword or tag) matches nothing.
        Assert.Equal(HttpStatusCode.NoContent, (await viewer.GetAsync($"/dicomweb/studies?StudyInstanceUID={other}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await viewer.GetAsync($"/dicomweb/series?0020000D={other}")).StatusCode);
        var instances = await (await viewer.GetAsync($"/dicomweb/instances?SOPInstanceUID={sop}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(other, instances, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_token_opens_nothing_but_QIDO_and_WADO()
    {
        var token = await TokenAsync($"studyUID={fixture.Granted.Study}&role=diagnostic");
        var viewer = Viewer(token);

        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync("/dicomweb/studies", Multipart.Related(SyntheticInstances.Create(fixture.Granted.Study).Bytes))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync($"/dicomweb/studies/{fixture.Granted.Study}", Multipart.Related(SyntheticInstances.Create(fixture.Granted.Study).Bytes))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/token?studyUID={fixture.Other.Study}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("/upload")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/exams/studies?PatientId=x")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/status?study_uid={fixture.Granted.Study}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("/admin/callbacks")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={fixture.Granted.Study}")).StatusCode);

        // Nothing was stored through it.
        Assert.Single((await (await fixture.Client.GetAsync($"/dicomweb/studies/{fixture.Granted.Study}/instances")).Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray());
    }

    [Fact]
    public async Task A_tampered_or_expired_token_is_401()
    {
        var token = await TokenAsync($"studyUID={fixture.Granted.Study}");
        var parts = token.Split('.');

        // Another study in the payload, the signature kept.
        var payload = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(WebEncoders.Base64UrlDecode(parts[1]))!;
        payload["Study"] = JsonSerializer.SerializeToElement(fixture.Other.Study);
        var forged = $"{parts[0]}.{WebEncoders.Base64UrlEncode(JsonSerializer.SerializeToUtf8Bytes(payload))}.{parts[2]}";
        Assert.Equal(HttpStatusCode.Unauthorized, (await Viewer(forged).GetAsync($"/dicomweb/studies/{fixture.Other.Study}/metadata")).StatusCode);

        var badSignature = $"{parts[0]}.{parts[1]}.{(parts[2][0] == 'A' ? 'B' : 'A')}{parts[2][1..]}";
        Assert.Equal(HttpStatusCode.Unauthorized, (await Viewer(badSignature).GetAsync("/dicomweb/studies")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Viewer("vt_garbage").GetAsync("/dicomweb/studies")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Viewer($"vt_0000000000000000.{parts[1]}.{parts[2]}").GetAsync("/dicomweb/studies")).StatusCode);

        // Expired: validly signed by the server's key ring, expiry in the past.
        payload = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(WebEncoders.Base64UrlDecode(parts[1]))!;
        payload["Exp"] = JsonSerializer.SerializeToElement(DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeSeconds());
        var expiredPayload = WebEncoders.Base64UrlEncode(JsonSerializer.SerializeToUtf8Bytes(payload));
        var keys = fixture.App.Services.GetRequiredService<HmacKeyRing>();
        var (keyId, signature) = await keys.SignAsync(Web.Security.ViewerTokens.Purpose, kid => kid + "." + expiredPayload, CancellationToken.None);
        var expired = $"vt_{keyId}.{expiredPayload}.{WebEncoders.Base64UrlEncode(signature)}";
        Assert.Equal(HttpStatusCode.Unauthorized, (await Viewer(expired).GetAsync("/dicomweb/studies")).StatusCode);

        // The genuine token, re-signed the same way, still works: the test's forgery is sound.
        var (sameKey, resigned) = await keys.SignAsync(Web.Security.ViewerTokens.Purpose, kid => kid + "." + parts[1], CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, (await Viewer($"vt_{sameKey}.{parts[1]}.{WebEncoders.Base64UrlEncode(resigned)}").GetAsync("/dicomweb/studies")).StatusCode);
    }

    [Fact]
    public async Task Every_use_is_recorded_with_user_study_token_and_endpoint()
    {
        var token = await TokenAsync($"studyUID={fixture.Granted.Study}&user=dr.house&patientID=P1");
        var viewer = Viewer(token);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/dicomweb/studies")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/dicomweb/studies/{fixture.Granted.Study}/metadata")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/dicomweb/studies/{fixture.Other.Study}/metadata")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync("/dicomweb/studies", Multipart.Related(SyntheticInstances.Create().Bytes))).StatusCode);

        var uses = await UsesAsync(token);
        Assert.Equal(["GET /dicomweb/studies", $"GET /dicomweb/studies/{fixture.Granted.Study}/metadata"], uses.Select(u => u.Endpoint));
        Assert.All(uses, u =>
        {
            Assert.Equal(fixture.Granted.Study, u.StudyInstanceUid);
            Assert.Equal("dr.house", u.UsedBy.Subject);
            Assert.Equal("viewer-token", u.UsedBy.Via);
            Assert.InRange(u.UsedAt, before, DateTimeOffset.UtcNow.AddSeconds(1));
        });
    }

    [Fact]
    public async Task A_token_of_one_tenant_sees_nothing_of_another()
    {
        // Another tenant issues a token naming this tenant's study: it is that tenant's token, and finds nothing.
        var stranger = await fixture.App.ClientForTenantAsync("viewer-stranger", Scopes.StudiesRead);
        var body = await (await stranger.GetAsync($"/token?studyUID={fixture.Granted.Study}")).Content.ReadFromJsonAsync<JsonElement>();
        var viewer = Viewer(body.GetProperty("token").GetString()!);

        Assert.Equal(HttpStatusCode.NoContent, (await viewer.GetAsync("/dicomweb/studies")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync($"/dicomweb/studies/{fixture.Granted.Study}/metadata")).StatusCode);
    }

    [Fact]
    public async Task The_token_payload_is_readable_and_carries_no_patient_identifier()
    {
        var token = await TokenAsync($"studyUID={fixture.Granted.Study}&user=u1&role=diagnostic&patientID=PAT-SECRET-7");
        var payload = JsonDocument.Parse(Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(token.Split('.')[1]))).RootElement;
        Assert.Equal(fixture.Granted.Study, payload.GetProperty("Study").GetString());
        Assert.Equal(Tenant, payload.GetProperty("Tenant").GetString());
        Assert.Equal("diagnostic", payload.GetProperty("Role").GetString());
        Assert.True(payload.GetProperty("Exp").GetInt64() > DateTimeOffset.UtcNow.AddMinutes(59).ToUnixTimeSeconds());
        Assert.DoesNotContain("PAT-SECRET-7", payload.GetRawText(), StringComparison.Ordinal);

        // The patient given at issue is recorded on the token's stream.
        await using var session = fixture.App.Store.QuerySession(Tenant);
        var issued = Assert.IsType<ViewerTokenIssued>((await session.Events.FetchStreamAsync(payload.GetProperty("Id").GetGuid()))[0].Data);
        Assert.Equal("PAT-SECRET-7", issued.PatientId);
        Assert.Equal("u1", issued.User);
        Assert.Equal("diagnostic", issued.Role);
    }
}
