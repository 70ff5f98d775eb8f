using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace EventSourced.Dicom.Tests;

/// <summary>External references: DCMTK binaries, Debian's pydicom and its corpus. Missing ones fail loudly.</summary>
internal static class Oracles
{
    public const string PydicomData = "/usr/lib/python3/dist-packages/pydicom/data";
    public const string DcmtkDictionary = "/usr/share/libdcmtk17/dicom.dic";
    public const string Python = "/usr/bin/python3";

    public static string CorpusPath(string relative)
    {
        var p = Path.Combine(PydicomData, relative);
        Assert.True(File.Exists(p), $"corpus file {p} missing: apt-get install python3-pydicom");
        return p;
    }

    public static string Tool(string name)
    {
        var p = Path.Combine("/usr/bin", name);
        Assert.True(File.Exists(p), $"{p} missing: apt-get install dcmtk");
        return p;
    }

    public static (int Exit, string Stdout, string Stderr) Run(string exe, params string[] args)
    {
        Assert.True(File.Exists(exe), $"{exe} missing");
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

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Dcm2JsonCache = new();

    /// <summary>DCMTK's DICOM JSON of a file (data set only, text converted to UTF-8); memoised per path for the run.</summary>
    public static JsonNode Dcm2Json(string path)
    {
        var text = Dcm2JsonCache.GetOrAdd(path, p =>
        {
            var (exit, stdout, stderr) = Run(Tool("dcm2json"), "-fc", p);
            Assert.True(exit == 0, $"dcm2json failed on {p} ({exit}): {stderr}");
            return stdout;
        });
        return JsonNode.Parse(text)!;
    }

    /// <summary>
    /// pydicom's DICOM JSON (Dataset.to_json), the second oracle where DCMTK cannot or does not decode.
    /// Corpus files are converted in one python3 run (start-up dominates), other paths one by one.
    /// </summary>
    public static JsonNode PydicomJson(string path)
    {
        if (PydicomCorpus.Value.TryGetValue(path, out var cached))
        {
            return JsonNode.Parse(cached)!;
        }
        const string script = "import sys, pydicom\nds = pydicom.dcmread(sys.argv[1], force=True)\nsys.stdout.write(ds.to_json())\n";
        var (exit, stdout, stderr) = Run(Python, "-c", script, path);
        Assert.True(exit == 0, $"pydicom failed on {path} ({exit}): {stderr}");
        return JsonNode.Parse(stdout)!;
    }

    private static readonly Lazy<Dictionary<string, string>> PydicomCorpus = new(() =>
    {
        var paths = CorpusCase.All.Where(c => c.Oracle.StartsWith("pydicom", StringComparison.Ordinal)).Select(c => c.FullPath).ToArray();
        const string script = "import sys, json, pydicom\nout = {}\nfor p in json.loads(sys.argv[1]):\n    out[p] = pydicom.dcmread(p, force=True).to_json()\nprint(json.dumps(out))\n";
        return System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(Python3(script, System.Text.Json.JsonSerializer.Serialize(paths)))!;
    });

    /// <summary>Runs a Python snippet under Debian's python3 (with pydicom); argv[1] receives <paramref name="input"/>.</summary>
    public static string Python3(string script, string input)
    {
        var (exit, stdout, stderr) = Run(Python, "-W", "ignore", "-c", script, input);
        Assert.True(exit == 0, $"python3 failed ({exit}): {stderr}");
        return stdout;
    }

    /// <summary>
    /// Differences between two DICOM JSON documents after normalising what the oracles legitimately
    /// do differently: key order, number formatting (compared as decimals), the value of (0008,0005)
    /// (DCMTK rewrites it to ISO_IR 192 after transcoding; decoded text is compared instead).
    /// </summary>
    public static List<string> Diff(JsonNode? ours, JsonNode? theirs, string path = "")
    {
        ours = Normalise(ours?.DeepClone());
        theirs = Normalise(theirs?.DeepClone());
        var diffs = new List<string>();
        var work = new Stack<(JsonNode? A, JsonNode? B, string Path, string VR)>();
        work.Push((ours, theirs, path, ""));
        while (work.Count > 0 && diffs.Count < 50)
        {
            var (a, b, p, vr) = work.Pop();
            switch (a, b)
            {
                case (null, null):
                    break;
                case (JsonObject oa, JsonObject ob):
                    foreach (var key in oa.Select(kv => kv.Key).Union(ob.Select(kv => kv.Key)))
                    {
                        if (key == "00080005")
                        {
                            continue;
                        }
                        var ha = oa.TryGetPropertyValue(key, out var va);
                        var hb = ob.TryGetPropertyValue(key, out var vb);
                        if (ha != hb)
                        {
                            diffs.Add($"{p}/{key}: {(ha ? "only ours" : "only theirs")}: {(ha ? va : vb)?.ToJsonString()}");
                            continue;
                        }
                        var childVr = oa["vr"] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : vr;
                        if (key == "InlineBinary" && va is JsonValue ia && vb is JsonValue ib && SameBinary(ia.GetValue<string>(), ib.GetValue<string>()))
                        {
                            continue;
                        }
                        work.Push((va, vb, $"{p}/{key}", childVr));
                    }
                    break;
                case (JsonArray xa, JsonArray xb):
                    if (xa.Count != xb.Count)
                    {
                        diffs.Add($"{p}: {xa.Count} values vs {xb.Count}: {xa.ToJsonString()[..Math.Min(300, xa.ToJsonString().Length)]} vs {xb.ToJsonString()[..Math.Min(300, xb.ToJsonString().Length)]}");
                        break;
                    }
                    for (var i = 0; i < xa.Count; i++)
                    {
                        work.Push((xa[i], xb[i], $"{p}[{i}]", vr));
                    }
                    break;
                case (JsonValue va, JsonValue vb):
                    if (!SameValue(va, vb, vr))
                    {
                        diffs.Add($"{p}: {va.ToJsonString()} vs {vb.ToJsonString()}");
                    }
                    break;
                default:
                    diffs.Add($"{p}: {a?.ToJsonString()} vs {b?.ToJsonString()}");
                    break;
            }
        }
        return diffs;
    }

    /// <summary>
    /// Applied to both sides alike: drops group length elements (DCMTK never writes them, PS3.5 §7.2 retires them),
    /// trims insignificant trailing spaces of string values (PS3.5 §6.2), drops trailing empty PN components,
    /// and shows a UN private creator (PS3.5 §7.8.1: always LO) as LO text.
    /// </summary>
    private static JsonNode? Normalise(JsonNode? root)
    {
        var work = new Stack<JsonNode?>();
        work.Push(root);
        while (work.Count > 0)
        {
            switch (work.Pop())
            {
                case JsonObject o when o["vr"] is JsonValue vrNode && vrNode.GetValueKind() == System.Text.Json.JsonValueKind.String:
                    var vr = vrNode.GetValue<string>();
                    if (o["Value"] is JsonArray values)
                    {
                        for (var i = 0; i < values.Count; i++)
                        {
                            if (vr == "PN" && values[i] is JsonObject pn)
                            {
                                foreach (var g in pn.Select(kv => kv.Key).ToList())
                                {
                                    var t = pn[g]!.GetValue<string>().TrimEnd('^', ' ');
                                    if (t.Length == 0)
                                    {
                                        pn.Remove(g);
                                    }
                                    else
                                    {
                                        pn[g] = t;
                                    }
                                }
                            }
                            else if (values[i] is JsonValue sv && sv.GetValueKind() == System.Text.Json.JsonValueKind.String)
                            {
                                values[i] = sv.GetValue<string>().TrimEnd(' ');
                            }
                            work.Push(values[i]);
                        }
                        if (vr == "PN" && values.All(v => v is JsonObject { Count: 0 }))
                        {
                            o.Remove("Value");
                        }
                    }
                    if (o["InlineBinary"] is JsonValue ib)
                    {
                        // Encapsulated values: pydicom keeps the closing sequence delimiter out, so strip it everywhere.
                        var bytes = Convert.FromBase64String(ib.GetValue<string>());
                        if (bytes.Length >= 8 && bytes.AsSpan(bytes.Length - 8).SequenceEqual(new byte[] { 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0 }))
                        {
                            o["InlineBinary"] = Convert.ToBase64String(bytes.AsSpan(0, bytes.Length - 8));
                        }
                    }
                    break;
                case JsonObject o:
                    foreach (var key in o.Select(kv => kv.Key).Where(k => k.Length == 8 && k.All(char.IsAsciiHexDigit)).ToList())
                    {
                        if (key.Length == 8 && key.EndsWith("0000", StringComparison.Ordinal))
                        {
                            o.Remove(key);
                            continue;
                        }
                        var el = o[key] as JsonObject;
                        var group = key.Length == 8 ? Convert.ToUInt16(key[..4], 16) : 0;
                        var elem = key.Length == 8 ? Convert.ToUInt16(key[4..], 16) : 0;
                        if (el is not null && (group & 1) == 1 && elem is >= 0x10 and <= 0xFF && el["vr"]?.GetValue<string>() == "UN" && el["InlineBinary"] is JsonValue b)
                        {
                            var text = System.Text.Encoding.Latin1.GetString(Convert.FromBase64String(b.GetValue<string>())).TrimEnd(' ', '\0');
                            o[key] = new JsonObject { ["vr"] = "LO", ["Value"] = new JsonArray(text) };
                            el = o[key] as JsonObject;
                        }
                        work.Push(el ?? o[key]);
                    }
                    break;
                case JsonArray a:
                    foreach (var x in a)
                    {
                        work.Push(x);
                    }
                    break;
            }
        }
        return root;
    }

    /// <summary>DCMTK (and any writer, PS3.5 §7.1.1) pads an odd-length binary value with one zero byte; otherwise bytes must match.</summary>
    private static bool SameBinary(string a, string b)
    {
        if (a == b)
        {
            return true;
        }
        var x = Convert.FromBase64String(a);
        var y = Convert.FromBase64String(b);
        if (x.Length > y.Length)
        {
            (x, y) = (y, x);
        }
        return x.Length % 2 == 1 && y.Length == x.Length + 1 && y[^1] == 0 && y.AsSpan(0, x.Length).SequenceEqual(x);
    }

    private static bool SameValue(JsonValue a, JsonValue b, string vr)
    {
        var ka = a.GetValueKind();
        var kb = b.GetValueKind();
        if (ka == System.Text.Json.JsonValueKind.Number && kb == System.Text.Json.JsonValueKind.Number)
        {
            var sa = a.ToJsonString();
            var sb = b.ToJsonString();
            if (vr == "FD")
            {
                // DCMTK prints FD with %.17g, we print the shortest round-trip form: compare the doubles.
                return double.Parse(sa, CultureInfo.InvariantCulture) == double.Parse(sb, CultureInfo.InvariantCulture);
            }
            if (vr == "FL")
            {
                // FL holds a 32-bit float; oracles print it with different digit counts (DCMTK %.9g).
                return (float)double.Parse(sa, CultureInfo.InvariantCulture) == (float)double.Parse(sb, CultureInfo.InvariantCulture);
            }
            return decimal.TryParse(sa, NumberStyles.Float, CultureInfo.InvariantCulture, out var da)
                   && decimal.TryParse(sb, NumberStyles.Float, CultureInfo.InvariantCulture, out var db)
                ? da == db
                : double.Parse(sa, CultureInfo.InvariantCulture).Equals(double.Parse(sb, CultureInfo.InvariantCulture));
        }
        return a.ToJsonString() == b.ToJsonString();
    }
}
