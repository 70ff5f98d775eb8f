using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EventSourced.Web.Tests.Support;

/// <summary>
/// The service as a real, separate OS process (the same EventSourced.Web.dll the run command starts),
/// for tests that must kill it the way a power cut or the OOM killer would.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string> environment;
    private Process? process;

    /// <param name="settings">More configuration, as environment variables (<c>Section__Key</c>).</param>
    public ServiceProcess(string connectionString, string blobRoot, IReadOnlyDictionary<string, string>? settings = null)
    {
        Port = FreePort();
        environment = new()
        {
            ["ConnectionStrings__EventStore"] = connectionString,
            ["Blobs__Root"] = blobRoot,
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__LogLevel__Default"] = "Warning",
            ["DOTNET_NOLOGO"] = "1",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }
    }

    /// <summary>The service's operating-system process id, once started.</summary>
    public int ProcessId => process?.Id ?? throw new InvalidOperationException("The service is not started.");

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    private static string Dll => Path.Combine(AppContext.BaseDirectory, "EventSourced.Web.dll");

    /// <summary>Runs the service's CLI (e.g. <c>tenants ensure …</c>) to completion and returns its output.</summary>
    public async Task<string> RunCliAsync(params string[] args)
    {
        var (exitCode, output, error) = await RunCliToExitAsync(args);
        return exitCode == 0 ? output : throw new InvalidOperationException($"CLI {string.Join(' ', args)} exited {exitCode}: {error}{output}");
    }

    /// <summary>Runs the service's CLI to completion: its exit code, standard output and standard error.</summary>
    /// <summary>Runs <c>projections verify</c> and asserts that it found the read models equal to a rebuild from the log.</summary>
    public async Task AssertProjectionsVerifyAsync()
    {
        var (verified, report, verifyError) = await RunCliToExitAsync("projections", "verify");
        Xunit.Assert.True(verified == 0, report + verifyError);
        Xunit.Assert.Contains("0 difference(s)", report);
    }

    public async Task<(int ExitCode, string Output, string Error)> RunCliToExitAsync(params string[] args)
    {
        using var cli = Process.Start(Start(args))!;
        var output = cli.StandardOutput.ReadToEndAsync();
        var error = cli.StandardError.ReadToEndAsync();
        await cli.WaitForExitAsync();
        return (cli.ExitCode, await output, await error);
    }

    /// <param name="readyWithin">How long to wait for /health/ready (default 90 s; a loaded CI machine may need more).</param>
    public async Task StartAsync(TimeSpan? readyWithin = null)
    {
        process = Process.Start(Start(["--urls", BaseAddress.ToString()]))!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var wait = readyWithin ?? TimeSpan.FromSeconds(90);
        var deadline = DateTime.UtcNow + wait;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with {process.ExitCode} while starting.");
            }

            try
            {
                if ((await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The service did not become ready in {wait.TotalSeconds} s.");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, no draining.</summary>
    public void Kill()
    {
        process?.Kill(entireProcessTree: true);
        process?.WaitForExit();
    }

    /// <summary>Waits for the process to end by itself (an injected crash); false when it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> ExitedWithinAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await process!.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            Kill();
        }

        process?.Dispose();
        return ValueTask.CompletedTask;
    }

    private ProcessStartInfo Start(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return start;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
