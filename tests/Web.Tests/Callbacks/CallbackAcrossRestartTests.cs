using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Callbacks;

/// <summary>
/// A delivery waiting for its retry lives in the database, not in a process: the host stops with it
/// pending, the next host on the same database delivers it.
/// </summary>
public sealed class CallbackAcrossRestartTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task A_delivery_pending_when_the_host_stops_is_delivered_by_the_next_host()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        var accepting = false;
        receiver.Answer = (_, _) => Volatile.Read(ref accepting) ? 200 : 503;
        var settings = new Dictionary<string, string?>
        {
            ["CALLBACK_URLS"] = receiver.Url("/restart"),
            ["Callbacks:SigningSecret"] = NewExamCallbackTests.Secret,
            ["Callbacks:MaxAttempts"] = "20",
            ["Callbacks:FirstRetryDelay"] = "00:00:02",
            ["Callbacks:MaxRetryDelay"] = "00:00:02",
        };
        var study = Support.Orders.NewStudyUid();
        string key;
        await using (var first = new AppFactory(database.ConnectionString, settings))
        {
            key = await first.IssueKeyAsync("restart-callbacks", [Scopes.StudiesWrite, Scopes.Admin]);
            var client = first.CreateClient();
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
            Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/new-exam-callback", Json.Body(NewExamCallbackTests.Example(study).ToJsonString(), "application/json"))).StatusCode);
            await Eventually.Until(() => Task.FromResult(receiver.Deliveries.Count), n => n >= 1, TimeSpan.FromSeconds(60), "a first, failed attempt");
        }

        // The first host is gone with the delivery waiting for its retry. The receiver recovers; a new host starts.
        var attemptsBefore = receiver.Deliveries.Count;
        Volatile.Write(ref accepting, true);
        await using var second = new AppFactory(database.ConnectionString, settings);
        second.CreateClient().Dispose();

        await Eventually.Until(() => Task.FromResult(receiver.Deliveries.Count(d => d.Answered == 200)), n => n >= 1, TimeSpan.FromSeconds(60),
            "the pending delivery to be made by the second host");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var accepted = Assert.Single(receiver.Deliveries, d => d.Answered == 200);
        Assert.True(NewExamCallbackTests.SignatureIsValid(accepted, NewExamCallbackTests.Secret));
        Assert.Equal(study, JsonDocument.Parse(accepted.Body).RootElement.GetProperty("StudyInstanceUID").GetString());
        Assert.True(receiver.Deliveries.Count > attemptsBefore);

        var admin = second.CreateClient();
        admin.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        Assert.Single((await (await admin.GetAsync($"/admin/callbacks?studyUID={study}")).Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray());
        Assert.Equal(0, (await (await admin.GetAsync("/admin/callbacks/dead-letters")).Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength());
    }
}
