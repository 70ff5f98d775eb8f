using EventSourced.Web.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace EventSourced.Web.Tests.Hosting;

/// <summary>The trimmer hands glibc's free pages back after new code was compiled, and only then.</summary>
public sealed class JitScratchTrimmerTests
{
    [Fact]
    public async Task It_trims_after_a_period_in_which_methods_were_compiled_and_not_after_a_quiet_one()
    {
        // Compiled-method counts seen at start and at each tick: new code, new code, nothing new, nothing new, new code.
        var counts = new Queue<long>([100, 120, 130, 130, 130, 140]);
        var looks = 0;
        var trims = new List<int>();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Hosting:JitScratchTrimPeriod"] = "00:00:00.020" }).Build();
        using var trimmer = new JitScratchTrimmer(configuration, () => { looks++; return counts.Count > 1 ? counts.Dequeue() : counts.Peek(); }, () => { trims.Add(looks); return true; });

        await trimmer.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (looks < 8 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await trimmer.StopAsync(CancellationToken.None);

        // Looks 2 and 3 saw new code (120, 130), 4 and 5 none, 6 new code again (140), later ones none.
        Assert.Equal([2, 3, 6], trims);
    }

    [Fact]
    public async Task Without_glibc_it_stops_after_the_first_attempt()
    {
        var count = 0L;
        var attempts = 0;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Hosting:JitScratchTrimPeriod"] = "00:00:00.010" }).Build();
        using var trimmer = new JitScratchTrimmer(configuration, () => ++count, () => { attempts++; return false; });

        await trimmer.StartAsync(CancellationToken.None);
        await (trimmer.ExecuteTask ?? Task.CompletedTask).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(1, attempts);
    }
}
