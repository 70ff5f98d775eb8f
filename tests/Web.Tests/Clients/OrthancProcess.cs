using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace EventSourced.Web.Tests.Clients;

/// <summary>
/// Orthanc (Debian's <c>orthanc</c>) with its DICOMweb plugin (<c>orthanc-dicomweb</c>) as a separate process on
/// free loopback ports, a temporary storage folder, and a configuration naming this service as the DICOMweb
/// peer <see cref="PeerName"/>, reached with our API key in the Authorization header.
/// </summary>
public sealed class OrthancProcess : IAsyncDisposable
{
    public const string PeerName = "eventsourced";

    private static readonly string[] PluginFolders = ["/usr/share/orthanc/plugins", "/usr/lib/orthanc"];

    private readonly string folder = Path.Combine(Path.GetTempPath(), "orthanc-test-" + Guid.NewGuid().ToString("N"));
    private Process? process;

    public int HttpPort { get; } = FreePort();

    public HttpClient Http { get; private set; } = null!;

    public async Task StartAsync(Uri peerDicomWeb, string apiKey)
    {
        Directory.CreateDirectory(folder);
        var plugin = PluginFolders.Select(f => Path.Combine(f, "libOrthancDicomWeb.so")).FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException("libOrthancDicomWeb.so (Debian package orthanc-dicomweb) is not installed.");
        var configuration = new Dictionary<string, object>
        {
            ["Name"] = "orthanc-peer-test",
            ["StorageDirectory"] = Path.Combine(folder, "storage"),
            ["IndexDirectory"] = Path.Combine(folder, "storage"),
            ["HttpPort"] = HttpPort,
            ["DicomPort"] = FreePort(),
            ["DicomServerEnabled"] = false,
            ["RemoteAccessAllowed"] = false,
            ["AuthenticationEnabled"] = false,
            ["HttpTimeout"] = 120,
            ["Plugins"] = new[] { plugin },
            ["DicomWeb"] = new Dictionary<string, object>
            {
                ["Enable"] = true,
                ["Root"] = "/dicom-web/",
                ["Servers"] = new Dictionary<string, object>
                {
                    [PeerName] = new Dictionary<string, object>
                    {
                        ["Url"] = peerDicomWeb.ToString().TrimEnd('/') + "/",
                        ["HttpHeaders"] = new Dictionary<string, string> { ["Authorization"] = apiKey },
                    },
                },
            },
        };
        var configPath = Path.Combine(folder, "orthanc.json");
        await File.WriteAllTextAsync(configPath, JsonSerializer.Serialize(configuration));

        process = Process.Start(new ProcessStartInfo("Orthanc", [configPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        })!;
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}"), Timeout = TimeSpan.FromMinutes(3) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Orthanc exited with {process.ExitCode} while starting:\n{log}");
            }

            try
            {
                if ((await Http.GetAsync("/system")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Orthanc did not answer /system in 60 s:\n{log}");
    }

    /// <summary>The DICOMweb root a STOW-RS client sends to (<c>{root}/studies</c>).</summary>
    public Uri DicomWebRoot => new($"http://127.0.0.1:{HttpPort}/dicom-web");

    /// <summary>Kills Orthanc, keeping its storage: <see cref="StartAsync"/> again brings it back on the same port with what it held.</summary>
    public async Task StopAsync()
    {
        Http?.Dispose();
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        process = null;
    }

    /// <summary>The files Orthanc holds for a study: SOPInstanceUID → SHA-256 of <c>/instances/{id}/file</c>, byte for byte as stored.</summary>
    public async Task<Dictionary<string, string>> FileHashesAsync(string studyUid)
    {
        var lookup = await PostJsonAsync("/tools/lookup", studyUid, raw: true);
        var id = lookup.EnumerateArray().Single(r => r.GetProperty("Type").GetString() == "Study").GetProperty("ID").GetString();
        var instances = JsonDocument.Parse(await Http.GetStringAsync($"/studies/{id}/instances")).RootElement;
        var hashes = new Dictionary<string, string>();
        foreach (var instance in instances.EnumerateArray())
        {
            var sop = instance.GetProperty("MainDicomTags").GetProperty("SOPInstanceUID").GetString()!;
            var file = await Http.GetByteArrayAsync($"/instances/{instance.GetProperty("ID").GetString()}/file");
            hashes[sop] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file));
        }

        return hashes;
    }

    /// <summary>A JSON (or, <paramref name="raw"/>, plain-text) POST to Orthanc's REST API that must succeed; its JSON answer.</summary>
    public async Task<JsonElement> PostJsonAsync(string path, object body, bool raw = false)
    {
        var content = raw
            ? new StringContent((string)body, System.Text.Encoding.UTF8, "text/plain")
            : new StringContent(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
        var response = await Http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Orthanc {path}: {(int)response.StatusCode} {text}");
        }

        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
