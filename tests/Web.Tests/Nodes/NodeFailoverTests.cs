using System.Collections.Concurrent;
using System.Net;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Nodes;

/// <summary>
/// One of two nodes is SIGKILLed while clients store through it: nothing it acknowledged is lost, the
/// clients carry on against the other node, the order deadline it scheduled fires exactly once on the
/// survivor, and the async projections (the study feed) move to the survivor (Marten's HotCold daemon,
/// Wolverine's balanced durability agents: the leadership is the database's advisory locks, released
/// when the dead node's connections close).
/// </summary>
[Collection(nameof(NodeFailoverTests))]
public sealed class NodeFailoverTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private readonly NodePair nodes = new();

    public Task InitializeAsync() => nodes.InitializeAsync();

    public Task DisposeAsync() => nodes.DisposeAsync();

    [Fact]
    public async Task Killing_a_node_under_STOW_load_loses_nothing_acknowledged_and_the_other_carries_on()
    {
        // Both nodes compile their write path (handlers compile on first use) before the clients' timing starts.
        await Task.WhenAll(new[] { nodes.One, nodes.Two }.Select(async node =>
        {
            using var warm = nodes.Client(node);
            warm.Timeout = TimeSpan.FromMinutes(5);
            Assert.Equal(HttpStatusCode.OK, (await warm.PostAsync("/dicomweb/studies", Multipart.Related(SyntheticInstances.Create().Bytes))).StatusCode);
        }));

        var acknowledged = new ConcurrentDictionary<string, string>();
        var onTwo = 0;
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            // Each client prefers node one and retries a failed or unanswered request on node two, as a
            // load balancer's health check or a client's retry would.
            using var one = nodes.Client(nodes.One);
            using var two = nodes.Client(nodes.Two);
            while (!stop.IsCancellationRequested)
            {
                var (bytes, study, _, sop) = SyntheticInstances.Create();
                foreach (var node in new[] { one, two, two, two })
                {
                    try
                    {
                        var response = await node.PostAsync("/dicomweb/studies", Multipart.Related(bytes));
                        if (response.StatusCode == HttpStatusCode.OK)
                        {
                            acknowledged[sop] = study;
                            if (node == two)
                            {
                                Interlocked.Increment(ref onTwo);
                            }

                            break;
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        await Task.Delay(100);
                    }
                }
            }
        })).ToList();

        await Eventually.Until(() => Task.FromResult(acknowledged.Count), n => n >= 30, TimeSpan.FromMinutes(4), "30 acknowledged instances");

        // An order made through node one schedules its metadata deadline; node one dies before it is due.
        using var orderClient = nodes.Client(nodes.One);
        var orderId = await orderClient.CreateOkAsync(Support.Orders.MandatoryOnly(Support.Orders.NewStudyUid()));
        var ackedBeforeKill = acknowledged.Count;
        nodes.One.Kill();
        var killed = System.Diagnostics.Stopwatch.StartNew();

        // The clients carry on against node two.
        await Eventually.Until(() => Task.FromResult(onTwo), n => n >= 20, TimeSpan.FromMinutes(4), "20 instances acknowledged by node two after the kill");
        stop.Cancel();
        await Task.WhenAll(clients);

        using var two = nodes.Client(nodes.Two);

        // Nothing acknowledged is lost: every instance is found by QIDO on node two and its bytes are there.
        foreach (var (sop, study) in acknowledged)
        {
            Assert.Contains(sop, await NodePair.InstancesAsync(two, study));
        }

        Assert.Equal(acknowledged.Count, await nodes.ScalarAsync(
            "select count(distinct data->'Instance'->>'SopInstanceUid') from eventsourced.mt_events where type = 'instance_stored' and data->'Instance'->>'SopInstanceUid' = any(@sops)",
            ("sops", acknowledged.Keys.ToArray())));
        Assert.True(acknowledged.Count > ackedBeforeKill);

        // The deadline fires on node two, once: the order fails with one OrderFailed, and no check is left waiting.
        var (_, failed) = await Eventually.Until(
            () => two.GetJsonAsync($"/status?order_id={orderId}"),
            r => r.Body.ValueKind == System.Text.Json.JsonValueKind.Object && r.Body.GetProperty("status").GetString() == "failed",
            TimeSpan.FromMinutes(3),
            "the order scheduled through the dead node to fail on the survivor");
        output.WriteLine($"The deadline (due {NodePair.MetadataDeadline.TotalSeconds} s after the order) fired on node two {killed.Elapsed.TotalSeconds:F0} s after node one was killed.");
        Assert.Equal("metadata_deadline_expired", failed.GetProperty("failure_reason").GetString());
        Assert.Equal(1, await nodes.ScalarAsync("select count(*) from eventsourced.mt_events where stream_id = @id and type = 'order_failed'", ("id", orderId)));
        // (A handled envelope may stay a while as 'Handled', Wolverine's record against a redelivery.)
        await Eventually.Until(
            () => nodes.ScalarAsync("select count(*) from eventsourced.wolverine_incoming_envelopes where message_type like '%CheckOrderMetadataDeadline%' and status <> 'Handled'"),
            n => n == 0,
            TimeSpan.FromSeconds(60),
            "no deadline check left waiting in the inbox");

        // The async daemon now runs on node two: a study stored after the kill reaches the feed.
        var (bytes, late, _, _) = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await two.PostAsync("/dicomweb/studies", Multipart.Related(bytes))).StatusCode);
        await Eventually.Until(() => NodePair.FeedAsync(two, late), e => e.Count > 0, TimeSpan.FromMinutes(2), "the study feed to show a study stored after the kill");
        output.WriteLine($"{acknowledged.Count} instances acknowledged ({ackedBeforeKill} before the kill, {onTwo} by node two); the feed showed a post-kill study {killed.Elapsed.TotalSeconds:F0} s after the kill.");
    }
}
