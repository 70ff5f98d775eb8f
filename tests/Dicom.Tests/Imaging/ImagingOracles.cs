using System.Diagnostics;
using System.Text;

namespace EventSourced.Dicom.Tests.Imaging;

/// <summary>A decoded PNM (P5 grey / P6 RGB, maxval 255).</summary>
internal sealed record Pnm(int Width, int Height, int Components, byte[] Pixels);

/// <summary>Outside oracles for the imaging tests: libjpeg-turbo's djpeg/cjpeg, DCMTK's dcmj2pnm, Pillow.</summary>
internal static class ImagingOracles
{
    public const string TestFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

    public static string Corpus(string file) => Oracles.CorpusPath(Path.Combine("test_files", file));

    public static string Djpeg => Tool("djpeg", "libjpeg-turbo-progs");
    public static string Cjpeg => Tool("cjpeg", "libjpeg-turbo-progs");
    public static string Dcmj2pnm => Tool("dcmj2pnm", "dcmtk");

    private static string Tool(string name, string package)
    {
        var p = Path.Combine("/usr/bin", name);
        Assert.True(File.Exists(p), $"{p} missing: apt-get install {package} (eng/install-test-deps.sh)");
        return p;
    }

    /// <summary>Runs a tool with stdin bytes; returns exit code, stdout bytes, stderr text.</summary>
    public static (int Exit, byte[] Stdout, string Stderr) RunBinary(string exe, byte[]? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdoutTask = Task.Run(() =>
        {
            using var ms = new MemoryStream();
            p.StandardOutput.BaseStream.CopyTo(ms);
            return ms.ToArray();
        });
        var stderrTask = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.BaseStream.Write(stdin);
            p.StandardInput.Close();
        }
        Assert.True(p.WaitForExit(60_000), $"{exe} timed out");
        return (p.ExitCode, stdoutTask.Result, stderrTask.Result);
    }

    /// <summary>djpeg's decoding of a JPEG stream (PGM for greyscale, PPM for colour); djpeg must not warn.</summary>
    public static Pnm DecodeWithDjpeg(byte[] jpeg)
    {
        var (exit, stdout, stderr) = RunBinary(Djpeg, jpeg, "-pnm");
        Assert.True(exit == 0 && stderr.Length == 0, $"djpeg failed ({exit}): {stderr}");
        return ParsePnm(stdout);
    }

    /// <summary>dcmj2pnm's 8-bit rendering of a DICOM file (PGM/PPM) with the given options.</summary>
    public static Pnm RenderWithDcmtk(string path, params string[] options)
    {
        var output = Path.Combine(Path.GetTempPath(), $"dcmj2pnm-{Guid.NewGuid():N}.pnm");
        try
        {
            var (exit, _, stderr) = RunBinary(Dcmj2pnm, null, [.. options, "--write-raw-pnm", path, output]);
            Assert.True(exit == 0, $"dcmj2pnm failed on {path} ({exit}): {stderr}");
            return ParsePnm(File.ReadAllBytes(output));
        }
        finally
        {
            File.Delete(output);
        }
    }

    public static Pnm ParsePnm(byte[] data)
    {
        var at = 0;
        string Token()
        {
            while (true)
            {
                while (at < data.Length && char.IsWhiteSpace((char)data[at]))
                {
                    at++;
                }
                if (at < data.Length && data[at] == '#')
                {
                    while (at < data.Length && data[at] != '\n')
                    {
                        at++;
                    }
                    continue;
                }
                break;
            }
            var start = at;
            while (at < data.Length && !char.IsWhiteSpace((char)data[at]))
            {
                at++;
            }
            return Encoding.ASCII.GetString(data, start, at - start);
        }
        var magic = Token();
        Assert.True(magic is "P5" or "P6", $"not a binary PNM: {magic}");
        var w = int.Parse(Token(), System.Globalization.CultureInfo.InvariantCulture);
        var h = int.Parse(Token(), System.Globalization.CultureInfo.InvariantCulture);
        var max = int.Parse(Token(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(255, max);
        at++; // single whitespace after maxval
        var c = magic == "P5" ? 1 : 3;
        Assert.True(data.Length - at >= w * h * c, "PNM shorter than its header says");
        return new Pnm(w, h, c, data.AsSpan(at, w * h * c).ToArray());
    }

    public static byte[] ToPnm(int width, int height, int components, byte[] pixels)
    {
        var header = Encoding.ASCII.GetBytes($"{(components == 1 ? "P5" : "P6")}\n{width} {height}\n255\n");
        return [.. header, .. pixels.AsSpan(0, width * height * components)];
    }

    /// <summary>Peak signal-to-noise ratio in dB of two 8-bit sample arrays.</summary>
    public static double Psnr(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        Assert.Equal(a.Length, b.Length);
        double se = 0;
        for (var i = 0; i < a.Length; i++)
        {
            double d = a[i] - b[i];
            se += d * d;
        }
        var mse = se / a.Length;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>Largest absolute sample difference and how many samples differ at all.</summary>
    public static (int Max, int Differing) Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        Assert.Equal(a.Length, b.Length);
        int max = 0, n = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = Math.Abs(a[i] - b[i]);
            max = Math.Max(max, d);
            n += d > 0 ? 1 : 0;
        }
        return (max, n);
    }
}
