using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Tests.Support;
using Microsoft.AspNetCore.WebUtilities;

namespace EventSourced.Web.Tests.Access;

/// <summary>
/// The signing keys rotate and live in PostgreSQL: a URL signed by a key that has since been replaced
/// still works until it expires, and a URL issued by one host is accepted by the next one on the same database.
/// </summary>
public sealed class PresignedKeyRotationTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    private static readonly Dictionary<string, string?> Settings = new() { ["Signing:KeyRotation"] = "00:00:01" };

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    private static async Task<(string Url, string KeyId)> IssueAsync(HttpClient client)
    {
        var body = await (await client.GetAsync("/upload")).Content.ReadFromJsonAsync<JsonElement>();
        var url = new Uri(body.GetProperty("url").GetString()!).PathAndQuery;
        return (url, QueryHelpers.ParseQuery(new Uri("http://localhost" + url).Query)["kid"].ToString());
    }

    private static ByteArrayContent Dicom(byte[] bytes) =>
        new(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/dicom") } };

    [Fact]
    public async Task URLs_signed_by_a_rotated_key_and_by_a_previous_host_are_accepted_until_they_expire()
    {
        string key;
        string beforeRestart;
        await using (var first = new AppFactory(database.ConnectionString, Settings))
        {
            key = await first.IssueKeyAsync("rotation-tests", [Scopes.StudiesWrite, Scopes.StudiesRead]);
            var client = first.CreateClient();
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);

            var (old, oldKey) = await IssueAsync(client);
            var (_, newKey) = await Eventually.Until(() => IssueAsync(client), r => r.KeyId != oldKey, TimeSpan.FromSeconds(30), "the key to rotate");
            Assert.NotEqual(oldKey, newKey);

            Assert.Equal(HttpStatusCode.OK, (await first.CreateClient().PutAsync(old, Dicom(SyntheticInstances.Create().Bytes))).StatusCode);
            (beforeRestart, _) = await IssueAsync(client);
        }

        await using var second = new AppFactory(database.ConnectionString, Settings);
        var instance = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await second.CreateClient().PutAsync(beforeRestart, Dicom(instance.Bytes))).StatusCode);
        var reader = second.CreateClient();
        reader.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/dicomweb/studies/{instance.Study}/instances")).StatusCode);
    }
}
