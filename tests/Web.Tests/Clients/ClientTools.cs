using System.Diagnostics;
using System.Text.Json;

namespace EventSourced.Web.Tests.Clients;

/// <summary>Outside programs the real-client tests drive: Node (dicomweb-client), pydicom, DCMTK, Orthanc.</summary>
public static class ClientTools
{
    /// <summary>This folder in the source tree (the Node package, the pydicom oracle).</summary>
    public static string Folder { get; } = FindFolder();

    public const string Python = "/usr/bin/python3";

    public static async Task<string> RunAsync(string program, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Folder,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish: {await error}");
        }

        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{await error}\n{await output}");
        return await output;
    }

    /// <summary>The Node packages of package-lock.json, installed once into this folder (npm ci) when missing.</summary>
    public static async Task EnsureNodePackagesAsync()
    {
        var client = Path.Combine(Folder, "dicomweb-client");
        if (!Directory.Exists(Path.Combine(client, "node_modules", "dicomweb-client")) || !Directory.Exists(Path.Combine(client, "node_modules", "s3rver")))
        {
            await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], client, TimeSpan.FromMinutes(5));
        }
    }

    /// <summary>A CT study made by pydicom from its CT_small.dcm: series 1 native (five slices), series 2 compressed by DCMTK's dcmcjpeg (JPEG Lossless SV1, three slices).</summary>
    public static async Task<(string Study, string[] Files)> MakeCtStudyAsync(string folder)
    {
        Directory.CreateDirectory(folder);
        var made = JsonDocument.Parse(await RunAsync(Python, [Path.Combine(Folder, "pydicom_oracle.py"), "make-study", folder])).RootElement;
        var files = made.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).ToArray();
        foreach (var file in files.Where(f => Path.GetFileName(f).StartsWith("s2_", StringComparison.Ordinal)))
        {
            await RunAsync("dcmcjpeg", ["+e1", file, file + ".jpeg"]);
            File.Move(file + ".jpeg", file, overwrite: true);
        }

        return (made.GetProperty("study").GetString()!, files);
    }

    /// <summary>pydicom's frames of each file: SOPInstanceUID → SHA-256 of each frame as stored (native frames little endian).</summary>
    public static async Task<Dictionary<string, string[]>> FrameHashesAsync(IEnumerable<string> files) =>
        JsonSerializer.Deserialize<Dictionary<string, string[]>>(await RunAsync(Python, [Path.Combine(Folder, "pydicom_oracle.py"), "frames", .. files]))!;

    /// <summary>SOPInstanceUID (read by pydicom) → SHA-256 of the whole file.</summary>
    public static async Task<Dictionary<string, string>> FileHashesAsync(IEnumerable<string> files) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(await RunAsync(Python, [Path.Combine(Folder, "pydicom_oracle.py"), "sha", .. files]))!;

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Web.Tests", "Clients");
            if (File.Exists(Path.Combine(candidate, "pydicom_oracle.py")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/Web.Tests/Clients not found above " + AppContext.BaseDirectory);
    }
}
