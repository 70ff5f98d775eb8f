using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Callbacks;

/// <summary>
/// Document c: <c>POST /new-exam-callback</c> stores the callback (listed by <c>GET /admin/callbacks</c>) and
/// forwards it, signed, to every configured endpoint through Wolverine's durable outbox: a receiver that
/// fails the first attempts gets exactly one accepted delivery per URL; one that always fails ends in the
/// dead-letter storage after the configured attempts.
/// </summary>
public sealed class NewExamCallbackTests(NewExamCallbackTests.Fixture fixture) : IClassFixture<NewExamCallbackTests.Fixture>
{
    public const string Secret = "callback-test-secret";
    private const string Tenant = "callback-tests";
    private const int MaxAttempts = 4;

    public sealed class Fixture : IAsyncLifetime
    {
        private readonly TestDatabase database = new();

        public CallbackReceiver Receiver { get; private set; } = null!;
        public AppFactory App { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await database.InitializeAsync();
            Receiver = await CallbackReceiver.StartAsync();
            // /flaky-a fails twice, /flaky-b once, /dead always; the first two through the document's
            // environment variable, the third through the configuration section.
            Receiver.Answer = (path, attempt) => path switch
            {
                "/flaky-a" => attempt <= 2 ? 503 : 200,
                "/flaky-b" => attempt <= 1 ? 500 : 204,
                _ => 502,
            };
            App = new AppFactory(database.ConnectionString, new Dictionary<string, string?>
            {
                ["CALLBACK_URLS"] = $"{Receiver.Url("/flaky-a")},{Receiver.Url("/flaky-b")}",
                ["Callbacks:Urls"] = Receiver.Url("/dead"),
                ["Callbacks:SigningSecret"] = Secret,
                ["Callbacks:MaxAttempts"] = MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Callbacks:FirstRetryDelay"] = "00:00:00.200",
                ["Callbacks:MaxRetryDelay"] = "00:00:01",
            });
            App.CreateClient().Dispose();
        }

        public async Task DisposeAsync()
        {
            await App.DisposeAsync();
            await Receiver.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    public static JsonObject Example(string studyUid) => new()
    {
        ["SourceID"] = "O3PROD",
        ["StudyInstanceUID"] = studyUid,
        ["AccessionNumber"] = "62476609-1",
        ["PatientID"] = "46803338",
        ["NumberOfStudyRelatedSeries"] = 1,
        ["NumberOfStudyRelatedInstances"] = 239,
        ["ModalitiesInStudy"] = new JsonArray("CT"),
        ["AeTitles"] = new JsonArray("O3-PACS-57"),
        ["StationNames"] = new JsonArray("Station ALFA", "Station BETA"),
        ["EventType"] = "COMPLETED",
        ["StudyDate"] = "20130926",
        ["StudyTime"] = "082329",
        ["StudyID"] = null,
        ["ReferringPhysicianName"] = "NO_DOC_NAME^NO_DOC_SURNAME",
        ["StudyDescription"] = "DENTALSCAN SUP",
        ["PatientName"] = "NO_SURNAME^NO_NAME",
        ["PatientBirthDate"] = "19600101",
        ["PatientSex"] = "F",
    };

    /// <summary>What a receiver does: HMAC-SHA256 with its copy of the secret over "{timestamp}.{body}", compared in constant time.</summary>
    public static bool SignatureIsValid(ReceivedDelivery delivery, string secret)
    {
        if (delivery.Signature is not { } header || !header.StartsWith("sha256=", StringComparison.Ordinal) || string.IsNullOrEmpty(delivery.Timestamp))
        {
            return false;
        }

        byte[] signed = [.. Encoding.UTF8.GetBytes(delivery.Timestamp + "."), .. delivery.Body];
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
        return CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(header["sha256=".Length..]));
    }

    private static StringContent Body(JsonNode body) => Json.Body(body.ToJsonString(), "application/json");

    private async Task<Guid> PostAndFindAsync(HttpClient client, string study)
    {
        var response = await client.PostAsync("/new-exam-callback", Body(Example(study)));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        var admin = await fixture.App.ClientForTenantAsync(Tenant, Scopes.Admin);
        var list = await (await admin.GetAsync($"/admin/callbacks?studyUID={study}")).Content.ReadFromJsonAsync<JsonElement>();
        return Assert.Single(list.EnumerateArray()).GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task Missing_required_fields_or_wrong_types_are_400_and_nothing_is_recorded()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant, Scopes.StudiesWrite);
        var study = Support.Orders.NewStudyUid();
        foreach (var field in new[] { "SourceID", "StudyInstanceUID", "PatientID", "EventType" })
        {
            var body = Example(study);
            body.Remove(field);
            var response = await client.PostAsync("/new-exam-callback", Body(body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{field} is not named in the 400");
        }

        var wrong = Example(study);
        wrong["NumberOfStudyRelatedSeries"] = "many";
        wrong["ModalitiesInStudy"] = new JsonObject();
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/new-exam-callback", Body(wrong))).StatusCode);
        var badUid = Example("not a uid");
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/new-exam-callback", Body(badUid))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/new-exam-callback", Json.Body("[1,2]", "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/new-exam-callback", Json.Body("{", "application/json"))).StatusCode);

        var admin = await fixture.App.ClientForTenantAsync(Tenant, Scopes.Admin);
        var list = await (await admin.GetAsync($"/admin/callbacks?studyUID={study}")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, list.GetArrayLength());
    }

    [Fact]
    public async Task Posting_needs_a_credential_with_studies_write_and_listing_needs_admin()
    {
        var study = Support.Orders.NewStudyUid();
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.App.CreateClient().PostAsync("/new-exam-callback", Body(Example(study)))).StatusCode);
        var reader = await fixture.App.ClientForTenantAsync(Tenant, Scopes.StudiesRead);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync("/new-exam-callback", Body(Example(study)))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.GetAsync("/admin/callbacks")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.GetAsync("/admin/callbacks/dead-letters")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.App.CreateClient().GetAsync("/admin/callbacks")).StatusCode);
    }

    [Fact]
    public async Task A_callback_is_stored_and_forwarded_exactly_once_per_URL_signed_despite_failed_attempts_and_dead_lettered_where_it_always_fails()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant, Scopes.StudiesWrite);
        var study = Support.Orders.NewStudyUid();
        var id = await PostAndFindAsync(client, study);
        var receiver = fixture.Receiver;

        await Eventually.Until(() => Task.FromResult(receiver.For("/flaky-a", id).Count(d => d.Answered < 300) + receiver.For("/flaky-b", id).Count(d => d.Answered < 300)),
            n => n == 2, TimeSpan.FromSeconds(60), "one accepted delivery at each flaky URL");

        var admin = await fixture.App.ClientForTenantAsync(Tenant, Scopes.Admin);
        var deadLetters = await Eventually.Until(
            async () => (await (await admin.GetAsync("/admin/callbacks/dead-letters")).Content.ReadFromJsonAsync<JsonElement>())
                .EnumerateArray().Where(d => d.GetProperty("callbackId").GetGuid() == id).ToList(),
            list => list.Count > 0, TimeSpan.FromSeconds(60), "the always-failing delivery to reach the dead-letter storage");

        var dead = Assert.Single(deadLetters);
        Assert.Equal(receiver.Url("/dead"), dead.GetProperty("url").GetString());
        Assert.Equal(study, dead.GetProperty("studyInstanceUid").GetString());
        Assert.Contains("502", dead.GetProperty("exceptionMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(MaxAttempts, receiver.For("/dead", id).Count);

        // Retries stop at the first success: give stray retries time to show, then count again.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var a = receiver.For("/flaky-a", id);
        var b = receiver.For("/flaky-b", id);
        Assert.Equal([503, 503, 200], a.Select(d => d.Answered));
        Assert.Equal([500, 204], b.Select(d => d.Answered));
        Assert.Equal(MaxAttempts, receiver.For("/dead", id).Count);

        foreach (var delivery in a.Concat(b).Concat(receiver.For("/dead", id)))
        {
            Assert.True(SignatureIsValid(delivery, Secret), $"invalid signature on a delivery to {delivery.Path}");
            Assert.False(SignatureIsValid(delivery, "another secret"));
            var body = JsonDocument.Parse(delivery.Body).RootElement;
            Assert.Equal(study, body.GetProperty("StudyInstanceUID").GetString());
            Assert.Equal("O3PROD", body.GetProperty("SourceID").GetString());
            Assert.Equal(239, body.GetProperty("NumberOfStudyRelatedInstances").GetInt32());
            Assert.Equal(["Station ALFA", "Station BETA"], body.GetProperty("StationNames").EnumerateArray().Select(s => s.GetString()));
            Assert.Equal(JsonValueKind.Null, body.GetProperty("StudyID").ValueKind);
        }

        var listed = Assert.Single((await (await admin.GetAsync($"/admin/callbacks?studyUID={study}")).Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray());
        Assert.Equal(3, listed.GetProperty("forwardTo").GetArrayLength());
        Assert.Equal("COMPLETED", listed.GetProperty("callback").GetProperty("EventType").GetString());
    }

    [Fact]
    public async Task Another_tenants_admin_sees_neither_the_callback_nor_its_dead_letters()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant, Scopes.StudiesWrite);
        var study = Support.Orders.NewStudyUid();
        var id = await PostAndFindAsync(client, study);
        var admin = await fixture.App.ClientForTenantAsync(Tenant, Scopes.Admin);
        await Eventually.Until(
            async () => (await (await admin.GetAsync("/admin/callbacks/dead-letters")).Content.ReadFromJsonAsync<JsonElement>())
                .EnumerateArray().Count(d => d.GetProperty("callbackId").GetGuid() == id),
            n => n > 0, TimeSpan.FromSeconds(60), "the dead letter");

        var stranger = await fixture.App.ClientForTenantAsync("callback-stranger", Scopes.Admin);
        Assert.Equal(0, (await (await stranger.GetAsync("/admin/callbacks")).Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength());
        Assert.Equal(0, (await (await stranger.GetAsync("/admin/callbacks/dead-letters")).Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength());
    }
}
