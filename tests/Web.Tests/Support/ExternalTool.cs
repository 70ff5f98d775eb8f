using System.Diagnostics;

namespace EventSourced.Web.Tests.Support;

/// <summary>Running the outside readers (DCMTK, pydicom, Pillow) on bytes: a temporary file, a process, its output.</summary>
public static class ExternalTool
{
    public static T WithFile<T>(byte[] bytes, string extension, Func<string, T> use)
    {
        var path = Path.Combine(Path.GetTempPath(), $"oracle-{Guid.NewGuid():N}{extension}");
        File.WriteAllBytes(path, bytes);
        try
        {
            return use(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static (int Exit, string Stdout, string Stderr) Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), $"{exe} timed out");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
