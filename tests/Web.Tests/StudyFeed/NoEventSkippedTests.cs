using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using EventSourced.Web.Tests.Support;
using Marten;
using Marten.Services;
using Npgsql;
using Xunit.Abstractions;

namespace EventSourced.Web.Tests.StudyFeed;

/// <summary>
/// Sequence numbers are taken when a transaction inserts its events, not when it commits: with commits
/// held open for random times, later numbers become visible before earlier ones. A consumer polling the
/// feed without pause must still see every committed event exactly once, in offset order, and never a
/// rolled-back one.
/// </summary>
[Collection(StudyFeedCollection.Name)]
public sealed class NoEventSkippedTests(ServiceFixture fixture, ITestOutputHelper output) : IClassFixture<ServiceFixture>
{
    private const int EventsPerTransaction = 50;

    [Fact]
    public async Task Concurrent_writers_with_late_commits_and_rollbacks_lose_nothing_for_a_consumer_that_polls_without_pause()
    {
        var client = await fixture.App.ClientForTenantAsync("gap-a");
        var otherClient = await fixture.App.ClientForTenantAsync("gap-b");
        var dataSource = new NpgsqlDataSourceBuilder(fixture.ConnectionString).Build();
        var committed = new ConcurrentDictionary<string, string>(); // SOP Instance UID → tenant
        var rolledBack = new ConcurrentBag<string>();
        var clock = Stopwatch.StartNew();

        // 16 writers × 13 transactions × 50 events for tenant A (10,400, 10,350 committed), 4 × 5 × 50 for tenant B.
        var writers = Enumerable.Range(0, 16).Select(w => WriteAsync("gap-a", w, 13))
            .Concat(Enumerable.Range(0, 4).Select(w => WriteAsync("gap-b", 100 + w, 5)))
            .ToList();
        var writing = Task.WhenAll(writers);

        var seen = new List<JsonElement>();
        var after = 0L;
        var polls = 0;
        var deadline = DateTime.UtcNow.AddSeconds(150);
        while (DateTime.UtcNow < deadline)
        {
            var page = await StudyEventsTests.GetPageAsync(client, $"/o3-dpacs-wado/studyEvents?offsetId={after}&limit=1000");
            polls++;
            foreach (var entry in page.GetProperty("events").EnumerateArray())
            {
                Assert.True(entry.GetProperty("offsetId").GetInt64() > after, "offsets must only grow");
                after = entry.GetProperty("offsetId").GetInt64();
                seen.Add(entry);
            }

            Assert.True(page.GetProperty("settledOffsetId").GetInt64() >= after);
            if (writing.IsCompleted && seen.Count >= committed.Count(c => c.Value == "gap-a"))
            {
                break;
            }
        }

        await writing;
        var expected = committed.Where(c => c.Value == "gap-a").Select(c => c.Key).ToHashSet();
        var sops = seen.Select(e => e.GetProperty("sopInstanceUid").GetString()!).ToList();
        output.WriteLine($"{committed.Count} events committed ({expected.Count} of tenant A), {rolledBack.Count} rolled back, {polls} polls, {clock.Elapsed.TotalSeconds:F1} s");

        Assert.True(expected.Count >= 10_000, $"only {expected.Count} committed");
        Assert.Equal(sops.Count, sops.Distinct().Count());
        var seenSet = sops.ToHashSet();
        var foreign = sops.Where(s => !expected.Contains(s)).ToList();
        Assert.True(foreign.Count == 0, $"{foreign.Count} entries seen that tenant A never committed, e.g. {foreign.FirstOrDefault()}");
        var missing = expected.Where(s => !seenSet.Contains(s)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} committed events never seen, e.g. {missing.FirstOrDefault()}");
        Assert.DoesNotContain(rolledBack, seenSet.Contains);

        // Tenant B's consumer sees exactly its own events.
        var theirs = await StudyEventsTests.ReadAllAsync(otherClient, committed.Count(c => c.Value == "gap-b"));
        Assert.Equal(
            committed.Where(c => c.Value == "gap-b").Select(c => c.Key).Order(),
            theirs.Select(e => e.GetProperty("sopInstanceUid").GetString()!).Order());

        async Task WriteAsync(string tenant, int writer, int transactions)
        {
            var random = new Random(writer);
            for (var t = 0; t < transactions; t++)
            {
                await using var connection = await dataSource.OpenConnectionAsync();
                await using var transaction = await connection.BeginTransactionAsync();
                var options = SessionOptions.ForTransaction(transaction);
                options.TenantId = tenant;
                await using var session = fixture.App.Store.LightweightSession(options);

                var study = $"2.25.{writer}.{t}.{random.Next(1_000_000)}";
                var series = study + ".1";
                var stream = Study.StreamId(tenant, study);
                var events = Enumerable.Range(0, EventsPerTransaction).Select(i => (object)Stored(stream, study, series, $"{series}.{i}")).ToArray();
                session.Events.StartStream(stream, events);
                await session.SaveChangesAsync();

                // Hold the commit open for a random time; two transactions hold it longer than the daemon's
                // stale-gap threshold (3 s), one rolls back (its sequence numbers are never filled).
                var holdLong = writer is 1 or 2 && t == 4;
                var rollBack = writer == 0 && t == 6;
                await Task.Delay(holdLong ? 4000 : random.Next(0, 150));
                var sops = events.Cast<InstanceStored>().Select(e => e.Instance.SopInstanceUid);
                if (rollBack)
                {
                    await transaction.RollbackAsync();
                    foreach (var sop in sops)
                    {
                        rolledBack.Add(sop);
                    }
                }
                else
                {
                    await transaction.CommitAsync();
                    foreach (var sop in sops)
                    {
                        committed[sop] = tenant;
                    }
                }
            }
        }
    }

    // Each instance its own blob hash: the inline ReferencedBlob row of a shared hash would be locked by
    // every open transaction and serialise the writers.
    private static InstanceStored Stored(Guid stream, string study, string series, string sop)
    {
        var header = JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["0020000D"] = new { vr = "UI", Value = new[] { study } },
            ["0020000E"] = new { vr = "UI", Value = new[] { series } },
            ["00080018"] = new { vr = "UI", Value = new[] { sop } },
            ["00080016"] = new { vr = "UI", Value = new[] { "1.2.840.10008.5.1.4.1.1.2" } },
        });
        var instance = new StoredInstance(study, series, sop, "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1", header,
            new BlobRef(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sop))), new string('0', 40), 1), IngestChannel.StowRs, null, null);
        return new InstanceStored(stream, instance, new Actor("gap-writer", "tests"), DateTimeOffset.UtcNow);
    }
}
