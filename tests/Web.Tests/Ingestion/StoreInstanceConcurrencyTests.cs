using System.Text.Json;
using EventSourced.Application.Ingestion.StoringInstances;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using EventSourced.Web.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace EventSourced.Web.Tests.Ingestion;

/// <summary>Many instances of one study stored at once, on a real PostgreSQL: every one is stored, none refused.</summary>
public sealed class StoreInstanceConcurrencyTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "ingest-tests";

    private static StoredInstance Instance(string study, string sop, string sha) => new(
        study, study + ".1", sop, "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1",
        JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["00080018"] = new { vr = "UI", Value = new[] { sop } } }),
        new BlobRef(sha, sha[..40], 1000), IngestChannel.StowRs, "CT1", null);

    private async Task<InstanceStoreResult> Store(StoredInstance instance) =>
        (await fixture.App.Services.GetRequiredService<IMessageBus>().InvokeForTenantAsync<StoreInstancesResponse>(
            Tenant, new StoreInstances([instance], new Actor("modality", "tests")), CancellationToken.None, TimeSpan.FromSeconds(60))).Results.Single();

    [Fact]
    public async Task Eight_clients_storing_instances_of_one_new_study_at_once_all_succeed()
    {
        var study = Support.Orders.NewStudyUid();
        var results = await Task.WhenAll(Enumerable.Range(1, 8).Select(i =>
            Store(Instance(study, $"{study}.1.{i}", new string("0123456789abcdef"[i + 7], 64)))));

        Assert.All(results, r => Assert.Equal(StoreOutcome.Stored, r.Outcome));
        await using var session = fixture.App.Store.QuerySession(Tenant);
        var events = await session.Events.FetchStreamAsync(Study.StreamId(Tenant, study));
        Assert.Equal(8, events.Count);
        Assert.Equal(8, events.Select(e => ((InstanceStored)e.Data).Instance.SopInstanceUid).Distinct().Count());
    }

    [Fact]
    public async Task One_command_stores_a_batch_deciding_each_instance_against_the_ones_before_it()
    {
        var study = Support.Orders.NewStudyUid();
        var first = Instance(study, $"{study}.1.1", new string('1', 64));
        var again = Instance(study, $"{study}.1.1", new string('1', 64));
        var other = Instance(study, $"{study}.1.2", new string('2', 64));

        var response = await fixture.App.Services.GetRequiredService<IMessageBus>().InvokeForTenantAsync<StoreInstancesResponse>(
            Tenant, new StoreInstances([first, again, other], new Actor("modality", "tests")), CancellationToken.None, TimeSpan.FromSeconds(60));

        Assert.Equal([StoreOutcome.Stored, StoreOutcome.AlreadyStored, StoreOutcome.Stored], response.Results.Select(r => r.Outcome));
        await using var session = fixture.App.Store.QuerySession(Tenant);
        Assert.Equal(2, (await session.Events.FetchStreamAsync(Study.StreamId(Tenant, study))).Count);
    }

    [Fact]
    public async Task The_same_instance_sent_by_eight_clients_at_once_is_stored_once()
    {
        var study = Support.Orders.NewStudyUid();
        var instance = Instance(study, $"{study}.1.1", new string('f', 64));

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Store(instance)));

        Assert.Equal(1, results.Count(r => r.Outcome == StoreOutcome.Stored));
        Assert.Equal(7, results.Count(r => r.Outcome == StoreOutcome.AlreadyStored));
        await using var session = fixture.App.Store.QuerySession(Tenant);
        Assert.Single(await session.Events.FetchStreamAsync(Study.StreamId(Tenant, study)));
    }
}
