using System.Net;
using EventSourced.Application.Orders.CheckingMetadataDeadline;
using EventSourced.Domain.Orders;
using EventSourced.Web.Tests.Support;
using JasperFx.Core;
using Marten;
using Wolverine.Tracking;

namespace EventSourced.Web.Tests.Orders;

/// <summary>
/// The document's deadline (a quarter of an hour) on a clock the tests move: a deadline passes when a test
/// says so, never because the machine was slow.
/// </summary>
public sealed class ShortDeadlineFixture : ServiceFixture
{
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(15);

    public TestClock Clock { get; } = new();

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Orders:MetadataDeadline"] = Deadline.ToString(),
    };

    protected override Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? Services => Clock.Register;

    /// <summary>Moves the clock past every deadline set so far and lets the scheduled checks run.</summary>
    public async Task PassTheDeadlineAsync()
    {
        Clock.Advance(Deadline + TimeSpan.FromSeconds(1));
        await ScheduledMessages.MakeDueAsync(ConnectionString, "CheckOrderMetadataDeadline");
    }
}

/// <summary>Document b: an order still lacking its required metadata fails at its deadline; a durable scheduled message decides it.</summary>
public sealed class MetadataDeadlineTests(ShortDeadlineFixture fixture) : IClassFixture<ShortDeadlineFixture>
{
    private const string Tenant = "deadline-tests";

    [Fact]
    public async Task Creating_an_order_without_its_metadata_schedules_exactly_one_durable_check_at_the_due_time()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        HttpResponseMessage? response = null;

        var tracked = await fixture.App.Services.TrackActivity()
            .Timeout(30.Seconds())
            .ExecuteAndWaitAsync((Func<Wolverine.IMessageContext, Task>)(async _ =>
                response = await client.CreateAsync(Support.Orders.MandatoryOnly(Support.Orders.NewStudyUid()))));

        Assert.Equal(HttpStatusCode.OK, response!.StatusCode);
        var envelope = Assert.Single(tracked.Scheduled.Envelopes());
        var check = Assert.IsType<CheckOrderMetadataDeadline>(envelope.Message);
        Assert.Equal(Tenant, envelope.TenantId);
        var (_, status) = await client.GetJsonAsync($"/status?order_id={check.OrderId}");
        Assert.Equal(status.GetProperty("metadata_due_by").GetDateTimeOffset(), envelope.ScheduledTime);
    }

    [Fact]
    public async Task An_order_with_all_required_metadata_at_creation_schedules_no_check()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var tracked = await fixture.App.Services.TrackActivity()
            .Timeout(30.Seconds())
            .ExecuteAndWaitAsync((Func<Wolverine.IMessageContext, Task>)(async _ =>
                Assert.Equal(HttpStatusCode.OK, (await client.CreateAsync(Support.Orders.ExampleBody(Support.Orders.NewStudyUid()))).StatusCode)));

        Assert.Empty(tracked.Scheduled.Envelopes());
    }

    [Fact]
    public async Task An_order_lacking_metadata_fails_at_its_deadline_and_frees_its_study()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var studyUid = Support.Orders.NewStudyUid();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));
        Assert.Equal("scheduled", await client.StatusOfAsync(orderId));
        await fixture.PassTheDeadlineAsync();

        var (_, failed) = await Eventually.Until(
            () => client.GetJsonAsync($"/status?order_id={orderId}"),
            r => r.Body.GetProperty("status").GetString() == "failed",
            TimeSpan.FromSeconds(30),
            "the order to fail at its deadline");

        Assert.Equal("metadata_deadline_expired", failed.GetProperty("failure_reason").GetString());
        Assert.True(failed.GetProperty("updated_at").GetDateTimeOffset() >= failed.GetProperty("metadata_due_by").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.OK, (await client.CreateAsync(Support.Orders.MandatoryOnly(studyUid))).StatusCode);

        await using var session = fixture.App.Store.QuerySession(Tenant);
        var events = await session.Events.FetchStreamAsync(orderId);
        var orderFailed = Assert.IsType<OrderFailed>(events[^1].Data);
        Assert.Equal(["PatientBirthDate", "PatientSex"], orderFailed.MissingMetadata);
        Assert.Equal("system", orderFailed.FailedBy.Subject);
    }

    [Fact]
    public async Task An_order_that_received_its_metadata_in_time_is_not_failed_by_the_check()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(Support.Orders.NewStudyUid()));
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/add-metadata?order_id={orderId}")
        {
            Content = Json.Body("""{"PatientBirthDate":"19700101","PatientSex":"F"}""", "application/json"),
        };
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(patch)).StatusCode);
        await fixture.PassTheDeadlineAsync();

        // The check still runs at the deadline; wait until the scheduled envelope is gone, then look.
        await Eventually.Until(
            () => ScheduledChecksAsync(),
            count => count == 0,
            TimeSpan.FromSeconds(30),
            "the scheduled deadline check to run");
        Assert.Equal("scheduled", await client.StatusOfAsync(orderId));
    }

    private async Task<long> ScheduledChecksAsync()
    {
        await using var session = fixture.App.Store.QuerySession();
        var rows = await session.AdvancedSql.QueryAsync<long>(
            "select count(*) from eventsourced.wolverine_incoming_envelopes where status = 'Scheduled' and message_type like '%CheckOrderMetadataDeadline%'",
            CancellationToken.None);
        return rows.Single();
    }
}
