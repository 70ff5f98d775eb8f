using System.Diagnostics;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using EventSourced.Web.Tests.Clients;

namespace EventSourced.Web.Tests.Support;

/// <summary>
/// A real S3-compatible server for the storage tests: s3rver (npm, from the Clients package's lock file),
/// on a free port, over a temporary directory, with the named buckets created at start. Its default
/// credentials are S3RVER / S3RVER; it checks request signatures like S3 does.
/// </summary>
public sealed class S3Server : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly string directory = Path.Combine(Path.GetTempPath(), "eventsourced-s3rver", Guid.NewGuid().ToString("N"));
    private Process? process;

    public int Port { get; } = ServiceProcess.FreePort();

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    public static async Task<S3Server> StartAsync(params string[] buckets)
    {
        await ClientTools.EnsureNodePackagesAsync();
        var server = new S3Server();
        Directory.CreateDirectory(server.directory);
        var start = new ProcessStartInfo("node")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = server.directory,
        };
        foreach (var argument in new[] { Path.Combine(ClientTools.Folder, "dicomweb-client", "node_modules", "s3rver", "bin", "s3rver.js"),
                     "-d", server.directory, "-a", "127.0.0.1", "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var bucket in buckets)
        {
            start.ArgumentList.Add("--configure-bucket");
            start.ArgumentList.Add(bucket);
        }

        server.process = Process.Start(start)!;
        server.process.OutputDataReceived += (_, _) => { };
        server.process.ErrorDataReceived += (_, _) => { };
        server.process.BeginOutputReadLine();
        server.process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (DateTime.UtcNow < deadline)
        {
            if (server.process.HasExited)
            {
                throw new InvalidOperationException($"s3rver exited with {server.process.ExitCode} while starting.");
            }

            try
            {
                if ((await http.GetAsync(server.ServiceUrl)).IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("s3rver did not start in 30 s.");
    }

    /// <summary>The configuration of one bucket of this server, as <c>Storage:Buckets:{name}:…</c> settings.</summary>
    public Dictionary<string, string> BucketSettings(string name, string separator = ":") => new()
    {
        [$"Storage{separator}Buckets{separator}{name}{separator}ServiceUrl"] = ServiceUrl,
        [$"Storage{separator}Buckets{separator}{name}{separator}AccessKey"] = AccessKey,
        [$"Storage{separator}Buckets{separator}{name}{separator}SecretKey"] = SecretKey,
    };

    /// <summary>A client of our own, to look at the bucket from outside the service.</summary>
    public AmazonS3Client Client() => new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
    {
        ServiceURL = ServiceUrl,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>SHA-256 of each object in the bucket, computed from its downloaded bytes, by key.</summary>
    public async Task<Dictionary<string, string>> ObjectHashesAsync(string bucket)
    {
        using var client = Client();
        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        var hashes = new Dictionary<string, string>();
        foreach (var item in listed.S3Objects ?? [])
        {
            using var response = await client.GetObjectAsync(bucket, item.Key);
            hashes[item.Key] = Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(response.ResponseStream));
        }

        return hashes;
    }

    public ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process?.Dispose();
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}
