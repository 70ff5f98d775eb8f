using System.Runtime.InteropServices;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Hands the JIT's freed scratch memory back to the system after new code was compiled. The JIT compiles a method
/// on the thread that first calls it, in native memory it frees afterwards; glibc keeps the freed pages in that
/// thread's malloc arena whenever something allocated later sits above them, so each burst of first requests (the
/// first STOW, the first searches) left several MiB resident until the process ended (docs/architecture.md,
/// "Start-up footprint"). Once a period, if methods were compiled since the last look, <c>malloc_trim</c> returns the free
/// pages of every arena; when nothing new is compiled (a service past its first requests) it does nothing.
/// <c>Hosting:JitScratchTrimPeriod</c> sets the period (5 s; zero turns it off).
/// </summary>
public sealed class JitScratchTrimmer(IConfiguration configuration) : BackgroundService
{
    private readonly Func<long> compiledMethods = () => System.Runtime.JitInfo.GetCompiledMethodCount();
    private readonly Func<bool> trim = GlibcHeap.Trim;

    /// <summary>For tests: the compiled-method count and the trim to use.</summary>
    public JitScratchTrimmer(IConfiguration configuration, Func<long> compiledMethods, Func<bool> trim)
        : this(configuration)
    {
        this.compiledMethods = compiledMethods;
        this.trim = trim;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = configuration.GetValue("Hosting:JitScratchTrimPeriod", TimeSpan.FromSeconds(5));
        if (period <= TimeSpan.Zero || !OperatingSystem.IsLinux())
        {
            return;
        }

        using var timer = new PeriodicTimer(period);
        var seen = compiledMethods();
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = compiledMethods();
            if (now != seen && !trim())
            {
                return; // not glibc: nothing to hand back this way
            }

            seen = now;
        }
    }
}

/// <summary>glibc's heap: free pages handed back to the system.</summary>
public static class GlibcHeap
{
    /// <summary><c>malloc_trim(0)</c>: false where there is no glibc (musl has no malloc_trim).</summary>
    public static bool Trim()
    {
        try
        {
            MallocTrim(0);
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
