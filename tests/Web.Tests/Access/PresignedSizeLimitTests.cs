using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Access;

/// <summary>The PUT body is bounded by <c>Ingestion:MaxInstanceBytes</c>: a larger instance is 413 and stores nothing.</summary>
public sealed class PresignedSizeLimitTests(PresignedSizeLimitTests.Fixture fixture) : IClassFixture<PresignedSizeLimitTests.Fixture>
{
    public sealed class Fixture : ServiceFixture
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Ingestion:MaxInstanceBytes"] = "20000" };
    }

    [Fact]
    public async Task An_instance_over_the_limit_is_413_and_stores_nothing()
    {
        var client = await fixture.App.ClientForTenantAsync("presigned-size", Scopes.StudiesWrite, Scopes.StudiesRead);
        var body = await (await client.GetAsync("/upload")).Content.ReadFromJsonAsync<JsonElement>();
        var url = new Uri(body.GetProperty("url").GetString()!).PathAndQuery;
        var instance = SyntheticInstances.Create();
        Assert.True(instance.Bytes.Length > 20000);

        // Declared too large, and too large without a declared length (chunked).
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await fixture.App.CreateClient().PutAsync(url, new ByteArrayContent(instance.Bytes))).StatusCode);
        var chunked = new StreamContent(new MemoryStream(instance.Bytes));
        var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        var response = await fixture.App.CreateClient().SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.BadRequest, $"answered {response.StatusCode}");

        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync($"/dicomweb/studies/{instance.Study}/instances")).StatusCode);
    }
}
