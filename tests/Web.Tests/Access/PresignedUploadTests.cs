using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Domain.Access;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Ingestion.Presigned;
using EventSourced.Web.Security;
using EventSourced.Web.Tests.Support;
using Marten;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourced.Web.Tests.Access;

/// <summary>
/// Document b: <c>GET /upload</c> hands out a signed, expiring, single-use URL; <c>PUT</c> of one instance to
/// it, without credentials, stores through the ingestion path under the principal that asked for it.
/// Every abuse of the URL is a 403 with nothing stored.
/// </summary>
public sealed class PresignedUploadTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "presigned-tests";

    private async Task<(HttpClient Client, string Url)> IssueAsync(string tenant = Tenant)
    {
        var client = await fixture.App.ClientForTenantAsync(tenant, Scopes.StudiesWrite, Scopes.StudiesRead);
        var response = await client.GetAsync("/upload");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (client, new Uri(body.GetProperty("url").GetString()!).PathAndQuery);
    }

    private static ByteArrayContent Dicom(byte[] bytes) =>
        new(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/dicom") } };

    /// <summary>A client with no credential at all, as document b's PUT is made.</summary>
    private HttpClient Anonymous() => fixture.App.CreateClient();

    private async Task<int> InstancesOfStudyAsync(HttpClient reader, string study)
    {
        var response = await reader.GetAsync($"/dicomweb/studies/{study}/instances");
        return response.StatusCode == HttpStatusCode.NoContent ? 0 : (await response.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength();
    }

    private async Task<List<InstanceStored>> StoredAsync(string study, string tenant = Tenant)
    {
        await using var session = fixture.App.Store.QuerySession(tenant);
        var all = await session.Events.QueryRawEventDataOnly<InstanceStored>().ToListAsync();
        return [.. all.Where(e => e.Instance.StudyInstanceUid == study)];
    }

    [Fact]
    public async Task Issuing_needs_the_ingest_scope_and_answers_url_method_and_expiry()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await Anonymous().GetAsync("/upload")).StatusCode);
        var reader = await fixture.App.ClientForTenantAsync(Tenant, Scopes.StudiesRead);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.GetAsync("/upload")).StatusCode);

        var client = await fixture.App.ClientForTenantAsync(Tenant, Scopes.StudiesWrite);
        var before = DateTimeOffset.UtcNow;
        var body = await (await client.GetAsync("/upload")).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("PUT", body.GetProperty("method").GetString());
        var expiresAt = body.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expiresAt, before.AddMinutes(15).AddSeconds(-2), DateTimeOffset.UtcNow.AddMinutes(15).AddSeconds(1));
        var url = new Uri(body.GetProperty("url").GetString()!);
        Assert.StartsWith("/upload/", url.AbsolutePath, StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(url.Query);
        Assert.Equal(Tenant, query["tenant"].ToString());
        Assert.Equal(expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), query["expires"].ToString());
        Assert.False(string.IsNullOrEmpty(query["kid"]));
        Assert.False(string.IsNullOrEmpty(query["signature"]));
    }

    [Fact]
    public async Task A_PUT_without_credentials_stores_one_instance_under_the_principal_that_asked_for_the_URL()
    {
        var (client, url) = await IssueAsync();
        var (bytes, study, series, sop) = SyntheticInstances.Create();

        var response = await Anonymous().PutAsync(url, Dicom(bytes));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(study, body.GetProperty("studyInstanceUid").GetString());
        Assert.Equal(series, body.GetProperty("seriesInstanceUid").GetString());
        Assert.Equal(sop, body.GetProperty("sopInstanceUid").GetString());
        Assert.Equal("stored", body.GetProperty("outcome").GetString());

        // Through the ingestion path: queryable and retrievable byte for byte.
        Assert.Equal(1, await InstancesOfStudyAsync(client, study));
        var retrieved = await client.GetAsync($"/dicomweb/studies/{study}/series/{series}/instances/{sop}");
        Assert.Equal(bytes, Assert.Single(await Ingestion.CorpusRoundTripTests.PartsAsync(retrieved)));

        var stored = Assert.Single(await StoredAsync(study));
        Assert.Equal(IngestChannel.PresignedPut, stored.Instance.Channel);
        Assert.Equal($"{Tenant}-client", stored.StoredBy.Subject);
        Assert.Equal("presigned-put", stored.StoredBy.Via);
    }

    [Fact]
    public async Task A_used_URL_is_refused_and_stores_nothing_more()
    {
        var (client, url) = await IssueAsync();
        var first = SyntheticInstances.Create();
        var second = SyntheticInstances.Create(first.Study);
        Assert.Equal(HttpStatusCode.OK, (await Anonymous().PutAsync(url, Dicom(first.Bytes))).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await Anonymous().PutAsync(url, Dicom(second.Bytes))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Anonymous().PutAsync(url, Dicom(first.Bytes))).StatusCode);

        Assert.Equal(1, await InstancesOfStudyAsync(client, first.Study));
    }

    [Fact]
    public async Task Concurrent_PUTs_of_one_URL_store_exactly_one_instance()
    {
        var (client, url) = await IssueAsync();
        var study = SyntheticInstances.Create().Study;
        var instances = Enumerable.Range(0, 8).Select(_ => SyntheticInstances.Create(study)).ToList();

        var responses = await Task.WhenAll(instances.Select(i => Anonymous().PutAsync(url, Dicom(i.Bytes))));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.Forbidden));
        Assert.Equal(1, await InstancesOfStudyAsync(client, study));
        Assert.Single(await StoredAsync(study));
    }

    public static TheoryData<string> Tamperings() =>
    [
        "signature", "tenant", "expires", "kid", "nonce", "no-signature", "no-expires", "no-tenant", "no-kid",
    ];

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task A_tampered_URL_is_403_and_stores_nothing_and_the_genuine_URL_still_works(string tampering)
    {
        var (client, url) = await IssueAsync();
        await fixture.App.ClientForTenantAsync("presigned-other", Scopes.StudiesRead);
        var uri = new Uri("http://localhost" + url);
        var query = QueryHelpers.ParseQuery(uri.Query).ToDictionary(q => q.Key, q => (string?)q.Value.ToString());
        var path = uri.AbsolutePath;
        switch (tampering)
        {
            case "signature":
                var signature = query["signature"]!;
                query["signature"] = (signature[0] == 'A' ? 'B' : 'A') + signature[1..];
                break;
            case "tenant":
                query["tenant"] = "presigned-other";
                break;
            case "expires":
                query["expires"] = (long.Parse(query["expires"]!, CultureInfo.InvariantCulture) + 3600).ToString(CultureInfo.InvariantCulture);
                break;
            case "kid":
                query["kid"] = "0000000000000000";
                break;
            case "nonce":
                path = $"/upload/{Guid.NewGuid():N}";
                break;
            default:
                query.Remove(tampering["no-".Length..]);
                break;
        }

        var instance = SyntheticInstances.Create();
        var response = await Anonymous().PutAsync(QueryHelpers.AddQueryString(path, query), Dicom(instance.Bytes));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, await InstancesOfStudyAsync(client, instance.Study));
        Assert.Empty(await StoredAsync(instance.Study));
        Assert.Empty(await StoredAsync(instance.Study, "presigned-other"));

        Assert.Equal(HttpStatusCode.OK, (await Anonymous().PutAsync(url, Dicom(instance.Bytes))).StatusCode);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("GET")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task Another_method_than_PUT_is_403_and_does_not_use_the_URL_up(string method)
    {
        var (client, url) = await IssueAsync();
        var instance = SyntheticInstances.Create();

        var wrong = await Anonymous().SendAsync(new HttpRequestMessage(new HttpMethod(method), url)
        {
            Content = method == "GET" ? null : Dicom(instance.Bytes),
        });

        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal(0, await InstancesOfStudyAsync(client, instance.Study));
        Assert.Equal(HttpStatusCode.OK, (await Anonymous().PutAsync(url, Dicom(instance.Bytes))).StatusCode);
    }

    [Fact]
    public async Task An_expired_URL_is_403_even_with_a_valid_signature()
    {
        var (client, _) = await IssueAsync();
        var keys = fixture.App.Services.GetRequiredService<HmacKeyRing>();
        var nonce = Guid.NewGuid();
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeSeconds());
        var path = LocalUploadUrlIssuer.PathOf(nonce);
        var (keyId, signature) = await keys.SignAsync(LocalUploadUrlIssuer.Purpose,
            kid => LocalUploadUrlIssuer.SignedText("PUT", path, Tenant, expiresAt, nonce, kid), CancellationToken.None);
        await using (var session = fixture.App.Store.LightweightSession(Tenant))
        {
            session.Events.StartStream(nonce, new UploadUrlIssued(nonce, keyId, expiresAt, new("tests", "tests"), DateTimeOffset.UtcNow.AddMinutes(-15)));
            await session.SaveChangesAsync();
        }

        var url = QueryHelpers.AddQueryString(path, new Dictionary<string, string?>
        {
            ["tenant"] = Tenant,
            ["expires"] = expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            ["kid"] = keyId,
            ["signature"] = LocalUploadUrlIssuer.Base64UrlEncode(signature),
        });
        var instance = SyntheticInstances.Create();

        Assert.Equal(HttpStatusCode.Forbidden, (await Anonymous().PutAsync(url, Dicom(instance.Bytes))).StatusCode);
        Assert.Equal(0, await InstancesOfStudyAsync(client, instance.Study));
    }

    [Fact]
    public async Task A_body_that_is_not_DICOM_is_422_stores_nothing_and_leaves_the_URL_usable()
    {
        var (client, url) = await IssueAsync();

        var refused = await Anonymous().PutAsync(url, new ByteArrayContent("%PDF-1.7 not an image"u8.ToArray()));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Anonymous().PutAsync(url, new ByteArrayContent([]))).StatusCode);

        var instance = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await Anonymous().PutAsync(url, Dicom(instance.Bytes))).StatusCode);
        Assert.Equal(1, await InstancesOfStudyAsync(client, instance.Study));
    }

    [Fact]
    public async Task The_URL_is_scoped_to_the_callers_tenant()
    {
        var (_, url) = await IssueAsync("presigned-a");
        var instance = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await Anonymous().PutAsync(url, Dicom(instance.Bytes))).StatusCode);

        var other = await fixture.App.ClientForTenantAsync("presigned-b", Scopes.StudiesRead);
        Assert.Equal(0, await InstancesOfStudyAsync(other, instance.Study));
        Assert.Single(await StoredAsync(instance.Study, "presigned-a"));
        Assert.Empty(await StoredAsync(instance.Study, "presigned-b"));
    }

    [Fact]
    public async Task Issue_and_use_are_recorded_on_the_URLs_stream()
    {
        var (_, url) = await IssueAsync();
        var instance = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await Anonymous().PutAsync(url, Dicom(instance.Bytes))).StatusCode);

        var nonce = Guid.ParseExact(new Uri("http://localhost" + url).AbsolutePath["/upload/".Length..], "N");
        await using var session = fixture.App.Store.QuerySession(Tenant);
        var events = await session.Events.FetchStreamAsync(nonce);
        Assert.Collection(events,
            e => Assert.Equal($"{Tenant}-client", Assert.IsType<UploadUrlIssued>(e.Data).IssuedBy.Subject),
            e => Assert.Equal(instance.Sop, Assert.IsType<UploadUrlConsumed>(e.Data).SopInstanceUid));
    }
}
