using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LoadHarness;

// Measures a DICOMweb server by base URL (ours: http://127.0.0.1:5080/dicomweb, Orthanc:
// http://127.0.0.1:8042/dicom-web). Bounded in count and time; loopback only by intent.
// Usage: dotnet run -c Release --project eng/bench/LoadHarness -- --base-url URL [--header "Name: value"]
//   [--studies 200] [--series 3] [--instances 5] [--patients 50] [--size 64] [--clients 4]
//   [--queries 2000] [--retrievals 1000] [--seed 42] [--skip-stow] [--name label] [--out file.json]
//   [--first-stow N]: only N STOWs, one study each, one after the other, no warm-up; prints each latency
//   (the first request of a fresh server against the next ones).
//   [--one-by-one N]: one study of N instances (one series), each instance in a STOW request of its own, one after
//   the other, no warm-up; prints the latency and the server's CPU per block of N/10 requests (does a store's cost grow
//   with the number of instances its study already holds?).
//   [--server-pid PID] [--db-pid PID]: CPU time (utime+stime from /proc, ms) of the server process and of
//   a PostgreSQL postmaster with its children, per phase, written as "<phase>.server_cpu_ms" / "db_cpu_ms".
//   [--latencies FILE]: every WADO-RS request's start within its phase, duration and URL, tab-separated.
//   [--phases qido,wado_instance,wado_study_metadata]: run only these read phases (the count check goes with
//   qido), e.g. to trace one path's allocations alone.
//   [--bad-load SECONDS [--client-timeout 30] [--events file.jsonl]]: --clients clients loop over mixed
//   STOW/QIDO/WADO for SECONDS, every response recorded, then every acknowledged instance retrieved (BadLoad).
var options = Options.Parse(args);
var corpus = new SyntheticCorpus(options.Studies, options.Series, options.Instances, options.Patients, options.Size, options.Seed);
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
{
    BaseAddress = new Uri(options.BaseUrl.TrimEnd('/') + "/"),
    Timeout = TimeSpan.FromMinutes(5),
};
foreach (var (name, value) in options.Headers)
{
    http.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
}

// --latencies FILE: every retrieval's start (ms from its phase's start), duration and URL, one line each (to
// see when the slow ones happen: at a phase's start, on a study's first request, or scattered).
var latencyLog = options.Latencies is { } latencyFile ? new LatencyLog(latencyFile) : null;
var summary = new Dictionary<string, object> { ["target"] = options.Name, ["base_url"] = options.BaseUrl, ["instances"] = corpus.InstanceCount, ["size"] = options.Size };
var cpu = new ProcessCpu(options.ServerPid, options.DbPid);
const string InstanceAccept = "multipart/related; type=\"application/dicom\"; transfer-syntax=*";
const string MetadataAccept = "application/dicom+json";

if (options.BadLoad > 0)
{
    var result = await BadLoad.RunAsync(http.BaseAddress!, options.Headers, corpus, options.Clients, options.BadLoad,
        TimeSpan.FromSeconds(options.ClientTimeout), options.Events);
    var text = JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
    Console.WriteLine(text);
    if (options.Out is not null)
    {
        await File.WriteAllTextAsync(options.Out, text);
    }

    return;
}

if (options.OneByOne > 0)
{
    var study = new SyntheticCorpus(1, 1, options.OneByOne, 1, options.Size, options.Seed);
    var block = Math.Max(1, options.OneByOne / 10);
    var blocks = new List<object>();
    var recorder = new Recorder();
    var blockStart = 0;
    var blockCpu = cpu.Read();
    for (var i = 0; i < options.OneByOne; i++)
    {
        var body = Stow.InstanceBody(study, 0, 0, i);
        var started = Stopwatch.GetTimestamp();
        using var response = await http.PostAsync("studies", Stow.Content(body));
        recorder.Add(Stopwatch.GetElapsedTime(started), response.IsSuccessStatusCode);
        response.EnsureSuccessStatusCode();
        if ((i + 1) % block == 0 || i + 1 == options.OneByOne)
        {
            var summaryOfBlock = recorder.Summary(null, 1, null);
            summaryOfBlock["instances_before"] = blockStart;
            blocks.Add(cpu.AddTo(summaryOfBlock, blockCpu));
            recorder = new Recorder();
            blockStart = i + 1;
            blockCpu = cpu.Read();
        }
    }

    summary["one_by_one"] = blocks;
    var text = JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true });
    Console.WriteLine(text);
    if (options.Out is not null)
    {
        await File.WriteAllTextAsync(options.Out, text);
    }

    return;
}

if (options.FirstStow > 0)
{
    var first = new SyntheticCorpus(options.FirstStow, options.Series, options.Instances, options.FirstStow, options.Size, options.Seed);
    var latencies = new List<double>();
    for (var s = 0; s < options.FirstStow; s++)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await http.PostAsync("studies", StudyContent(first, s));
        latencies.Add(Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1));
        response.EnsureSuccessStatusCode();
    }

    summary["first_stow_ms"] = latencies;
    Console.WriteLine(JsonSerializer.Serialize(summary));
    return;
}

// Warm-up, not measured: a study of another seed (its patient is outside the corpus, so counts hold)
// and a few queries, so start-up costs (code generation, JIT, connection pools) stay out of the figures.
// Each read phase below also runs its own loop over this study first (ReadPhaseAsync).
SyntheticCorpus? warm = null;
if (!options.SkipStow)
{
    warm = new SyntheticCorpus(1, 1, 2, 1, options.Size, options.Seed + 1000);
    (await http.PostAsync("studies", StudyContent(warm, 0))).EnsureSuccessStatusCode();
    using var warmQuery = new HttpRequestMessage(HttpMethod.Get, $"studies?PatientID={warm.PatientId(0)}");
    (await http.SendAsync(warmQuery)).Dispose();
}

// STOW-RS: one study per request, several clients.
if (!options.SkipStow)
{
    var stow = new Recorder();
    var next = -1;

    // The request bodies are built before the clock starts, so the harness's own DICOM encoding does not
    // compete with the server for the same cores during the phase (a load generator measures the server,
    // not itself; the summary gives the harness's CPU for building them). Above 1 GiB of bodies they are
    // built per request, as before.
    var harnessCpu = HarnessCpuMs();
    var prebuilt = (long)corpus.Studies * corpus.SeriesPerStudy * corpus.InstancesPerSeries * (options.Size * options.Size * 2L + 2048) <= 1L << 30
        ? Enumerable.Range(0, corpus.Studies).Select(s => Stow.Body(corpus, s)).ToArray()
        : null;
    summary["stow_bodies_prebuilt"] = prebuilt is not null;
    summary["stow_bodies_harness_cpu_ms"] = Math.Round(HarnessCpuMs() - harnessCpu, 1);
    var cpuBefore = cpu.Read();
    harnessCpu = HarnessCpuMs();
    var clock = Stopwatch.StartNew();
    // Each client its own loop: the degree is set, or Parallel.ForEachAsync would run only as many
    // loops at once as the machine has cores (2 here), not the clients asked for.
    await Parallel.ForEachAsync(Enumerable.Range(0, options.Clients), new ParallelOptions { MaxDegreeOfParallelism = options.Clients }, async (_, ct) =>
    {
        int s;
        while ((s = Interlocked.Increment(ref next)) < corpus.Studies)
        {
            using var content = prebuilt is null ? StudyContent(corpus, s) : Stow.Content(prebuilt[s]);
            var started = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync("studies", content, ct);
            stow.Add(Stopwatch.GetElapsedTime(started), response.IsSuccessStatusCode);
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"STOW study {s}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }
        }
    });
    clock.Stop();
    summary["stow"] = cpu.AddTo(stow.Summary(clock.Elapsed, corpus.SeriesPerStudy * corpus.InstancesPerSeries, "instances_per_s"), cpuBefore);
    summary["stow_harness_cpu_ms_per_instance"] = Math.Round((HarnessCpuMs() - harnessCpu) / corpus.InstanceCount, 3);
}

// QIDO-RS: a fixed mix.
var random = new Random(options.Seed);
var qido = new Dictionary<string, Recorder>();
var mix = new (string Name, Func<Random, string> Url)[]
{
    ("patient_id", r => $"studies?PatientID={corpus.PatientId(r.Next(options.Patients))}"),
    ("study_date_range", r => { var s = r.Next(corpus.Studies); return $"studies?StudyDate={corpus.StudyDate(s):yyyyMMdd}-{corpus.StudyDate(s).AddDays(7):yyyyMMdd}"; }),
    ("accession", r => $"studies?AccessionNumber={corpus.Accession(r.Next(corpus.Studies))}"),
    ("modality", r => $"series?Modality={corpus.Modality(r.Next(corpus.Studies), 0)}&limit=100"),
    ("patient_name_wildcard", r => $"studies?PatientName={corpus.PatientName(r.Next(options.Patients))[..5]}*&limit=100"),
    ("series_of_study", r => $"studies/{corpus.StudyUid(r.Next(corpus.Studies))}/series"),
    ("instances_of_series", r => { var s = r.Next(corpus.Studies); return $"studies/{corpus.StudyUid(s)}/series/{corpus.SeriesUid(s, r.Next(corpus.SeriesPerStudy))}/instances"; }),
};
var queries = Enumerable.Range(0, options.Phases.Contains("qido") ? options.Queries : 0).Select(_ => mix[random.Next(mix.Length)]).Select(m => (m.Name, Url: m.Url(random))).ToArray();
foreach (var (name, _) in mix)
{
    qido[name] = new Recorder();
}

var all = new Recorder();
var qidoCpuBefore = cpu.Read();
var qidoClock = Stopwatch.StartNew();
await Parallel.ForEachAsync(queries, new ParallelOptions { MaxDegreeOfParallelism = options.Clients }, async (q, ct) =>
{
    var started = Stopwatch.GetTimestamp();
    using var request = new HttpRequestMessage(HttpMethod.Get, q.Url);
    request.Headers.Accept.ParseAdd("application/dicom+json");
    using var response = await http.SendAsync(request, ct);
    var body = await response.Content.ReadAsByteArrayAsync(ct);
    var elapsed = Stopwatch.GetElapsedTime(started);
    qido[q.Name].Add(elapsed, response.IsSuccessStatusCode);
    // The answer's size, counted after the clock stopped: a kind whose answers grow with the archive is slower for that reason.
    qido[q.Name].AddAnswer(Answers.Count(body), body.Length);
    all.Add(elapsed, response.IsSuccessStatusCode);
});
qidoClock.Stop();
summary["qido"] = cpu.AddTo(all.Summary(qidoClock.Elapsed, 1, "queries_per_s"), qidoCpuBefore);
summary["qido_by_query"] = qido.ToDictionary(q => q.Key, q => q.Value.Summary(null, 1, null));

// Counts: every patient's study count equals the corpus.
var mismatches = 0;
for (var p = 0; p < (options.Phases.Contains("qido") ? options.Patients : 0); p++)
{
    var expected = Enumerable.Range(0, corpus.Studies).Count(s => corpus.PatientOf(s) == p);
    using var request = new HttpRequestMessage(HttpMethod.Get, $"studies?PatientID={corpus.PatientId(p)}&limit=1000");
    request.Headers.Accept.ParseAdd("application/dicom+json");
    using var response = await http.SendAsync(request);
    var text = await response.Content.ReadAsStringAsync();
    var count = !response.IsSuccessStatusCode ? -1
        : text.Length == 0 ? 0 // 204 No Content: no match
        : JsonDocument.Parse(text).RootElement is { ValueKind: JsonValueKind.Array } array ? array.GetArrayLength() : -1;
    mismatches += count == expected ? 0 : 1;
}

summary["qido_count_check"] = new { patients = options.Patients, mismatches };

// WADO-RS: instance retrieval and study metadata.
foreach (var (name, url, warmUrl, accept) in new (string, Func<Random, string>, Func<SyntheticCorpus, int, string>, string)[]
         {
             ("wado_instance", r => { var s = r.Next(corpus.Studies); var se = r.Next(corpus.SeriesPerStudy); return InstanceUrl(corpus, s, se, r.Next(corpus.InstancesPerSeries)); },
              (w, i) => InstanceUrl(w, 0, 0, i % w.InstancesPerSeries), InstanceAccept),
             ("wado_study_metadata", r => $"studies/{corpus.StudyUid(r.Next(corpus.Studies))}/metadata", (w, _) => $"studies/{w.StudyUid(0)}/metadata", MetadataAccept),
         })
{
    var included = options.Phases.Contains(name);

    // Untimed: the phase's own loop, clients and request code over the warm study first, so that its
    // first measured requests do not carry this process's first use of them.
    if (warm is not null && included)
    {
        var warmed = await ReadPhaseAsync(http, Enumerable.Range(0, 2 * options.Clients).Select(i => warmUrl(warm, i)).ToArray(), accept, options.Clients, null, null);
        if (warmed.Failures > 0)
        {
            throw new InvalidOperationException($"{name}: {warmed.Failures} warm-up retrievals of the warm study failed");
        }
    }

    var urls = Enumerable.Range(0, included ? options.Retrievals : 0).Select(_ => url(random)).ToArray();
    var cpuBefore = cpu.Read();
    var (gen0Before, pauseBefore) = (GC.CollectionCount(0), GC.GetTotalPauseDuration());
    var clock = Stopwatch.StartNew();
    var startedAt = DateTimeOffset.UtcNow;
    var recorder = await ReadPhaseAsync(http, urls, accept, options.Clients, name, latencyLog);
    clock.Stop();
    summary[name] = cpu.AddTo(recorder.Summary(clock.Elapsed, 1, "requests_per_s"), cpuBefore);
    // When the phase started (Unix ms), to place it in a trace of the server taken beside it.
    ((Dictionary<string, object>)summary[name])["started_unix_ms"] = startedAt.ToUnixTimeMilliseconds();
    // The harness's own collections during the phase: each pause stops its clients and adds to the requests in flight.
    ((Dictionary<string, object>)summary[name])["harness_gc0"] = GC.CollectionCount(0) - gen0Before;
    ((Dictionary<string, object>)summary[name])["harness_gc_pause_ms"] = Math.Round((GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds, 2);
}

latencyLog?.Save();
var json = JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true });
Console.WriteLine(json);
if (options.Out is not null)
{
    await File.WriteAllTextAsync(options.Out, json);
}

static HttpContent StudyContent(SyntheticCorpus corpus, int s) => Stow.Content(corpus, s);

static string InstanceUrl(SyntheticCorpus corpus, int s, int se, int i) =>
    $"studies/{corpus.StudyUid(s)}/series/{corpus.SeriesUid(s, se)}/instances/{corpus.SopUid(s, se, i)}";

// A read phase: the URLs retrieved by that many clients, each retrieval timed (and logged under the phase's name).
static async Task<Recorder> ReadPhaseAsync(HttpClient http, string[] urls, string accept, int clients, string? name, LatencyLog? log)
{
    var recorder = new Recorder();
    var phaseStart = Stopwatch.GetTimestamp();
    await Parallel.ForEachAsync(urls, new ParallelOptions { MaxDegreeOfParallelism = clients }, async (u, ct) =>
    {
        var started = Stopwatch.GetTimestamp();
        var (elapsed, ok) = await RetrieveAsync(http, u, accept, ct);
        recorder.Add(elapsed, ok);
        log?.Add(name!, Stopwatch.GetElapsedTime(phaseStart, started), elapsed, u);
    });
    return recorder;
}

// One retrieval as the read phases time it: headers first, the body copied as it arrives.
static async Task<(TimeSpan Elapsed, bool Ok)> RetrieveAsync(HttpClient http, string url, string accept, CancellationToken ct)
{
    var started = Stopwatch.GetTimestamp();
    using var request = new HttpRequestMessage(HttpMethod.Get, url);
    request.Headers.Accept.ParseAdd(accept);
    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    await response.Content.CopyToAsync(Stream.Null, ct);
    return (Stopwatch.GetElapsedTime(started), response.IsSuccessStatusCode);
}

// This process's own CPU (user + system), in ms.
static double HarnessCpuMs() => System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;

internal sealed class Recorder
{
    private readonly List<double> milliseconds = [];
    private int failures;
    private long answers, rows, bytes;

    public int Failures
    {
        get
        {
            lock (milliseconds)
            {
                return failures;
            }
        }
    }

    /// <summary>One answer's results (top-level JSON array items) and bytes.</summary>
    public void AddAnswer(int results, long length)
    {
        lock (milliseconds)
        {
            answers++;
            rows += results;
            bytes += length;
        }
    }

    public void Add(TimeSpan elapsed, bool ok)
    {
        lock (milliseconds)
        {
            milliseconds.Add(elapsed.TotalMilliseconds);
            failures += ok ? 0 : 1;
        }
    }

    public Dictionary<string, object> Summary(TimeSpan? wall, int unitsPerRequest, string? rateName)
    {
        var sorted = milliseconds.Order().ToArray();
        double P(double q) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        var result = new Dictionary<string, object>
        {
            ["requests"] = sorted.Length,
            ["failures"] = failures,
            ["mean_ms"] = sorted.Length == 0 ? 0 : Math.Round(sorted.Average(), 2),
            ["p50_ms"] = Math.Round(P(0.50), 2),
            ["p95_ms"] = Math.Round(P(0.95), 2),
            ["p99_ms"] = Math.Round(P(0.99), 2),
        };
        if (answers > 0)
        {
            result["results_mean"] = Math.Round((double)rows / answers, 1);
            result["bytes_mean"] = bytes / answers;
        }
        if (wall is { } w && rateName is not null)
        {
            result["seconds"] = Math.Round(w.TotalSeconds, 2);
            result[rateName] = Math.Round(sorted.Length * unitsPerRequest / w.TotalSeconds, 1);
        }

        return result;
    }
}

internal static class Answers
{
    /// <summary>The number of items of a JSON array answer (0 for an empty body, a 204, or a body that is not JSON).</summary>
    public static int Count(byte[] body)
    {
        var reader = new Utf8JsonReader(body);
        var count = 0;
        try
        {
            while (body.Length > 0 && reader.Read())
            {
                if (reader.CurrentDepth == 1 && reader.TokenType is JsonTokenType.StartObject)
                {
                    count++;
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return 0; // not JSON (an error page): no results
        }

        return count;
    }
}

internal sealed class LatencyLog(string path)
{
    private readonly List<string> lines = [];

    public void Add(string phase, TimeSpan start, TimeSpan elapsed, string url)
    {
        lock (lines)
        {
            lines.Add(FormattableString.Invariant($"{phase}\t{start.TotalMilliseconds:F2}\t{elapsed.TotalMilliseconds:F3}\t{url}"));
        }
    }

    public void Save() => File.WriteAllLines(path, lines);
}

internal sealed record Options(
    string BaseUrl, List<(string, string)> Headers, int Studies, int Series, int Instances, int Patients, int Size,
    int Clients, int Queries, int Retrievals, int Seed, bool SkipStow, string Name, string? Out, int FirstStow, int? ServerPid, int? DbPid,
    int BadLoad, int ClientTimeout, string? Events, string? Latencies, string[] Phases, int OneByOne)
{
    public static Options Parse(string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != "--" + name).Skip(1).FirstOrDefault();
        int Int(string name, int fallback) => int.TryParse(Value(name), out var v) ? v : fallback;
        var headers = args.Select((a, i) => (a, i)).Where(x => x.a == "--header" && x.i + 1 < args.Length)
            .Select(x => args[x.i + 1].Split(':', 2)).Select(h => (h[0].Trim(), h[1].Trim())).ToList();
        var baseUrl = Value("base-url") ?? throw new ArgumentException("--base-url is required");
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || !uri.IsLoopback)
        {
            throw new ArgumentException("--base-url must be an absolute loopback URL: this harness only loads servers on this machine.");
        }

        return new Options(baseUrl, headers, Int("studies", 200), Int("series", 3), Int("instances", 5), Int("patients", 50), Int("size", 64),
            Int("clients", 4), Int("queries", 2000), Int("retrievals", 1000), Int("seed", 42), args.Contains("--skip-stow"),
            Value("name") ?? baseUrl, Value("out"), Int("first-stow", 0),
            int.TryParse(Value("server-pid"), out var server) ? server : null, int.TryParse(Value("db-pid"), out var db) ? db : null,
            Int("bad-load", 0), Int("client-timeout", 30), Value("events"), Value("latencies"),
            (Value("phases") ?? "qido,wado_instance,wado_study_metadata").Split(',', StringSplitOptions.TrimEntries),
            Int("one-by-one", 0));
    }
}

/// <summary>
/// CPU time of the measured processes from /proc (Linux clock ticks, 100 per second): the server, and a
/// PostgreSQL postmaster with its live backends plus the reaped ones (cutime/cstime).
/// </summary>
internal sealed class ProcessCpu(int? serverPid, int? dbPid)
{
    private const double MsPerTick = 10;

    public (double Server, double Db) Read() =>
        (serverPid is { } s ? Ticks(s, children: false) * MsPerTick : 0, dbPid is { } d ? Ticks(d, children: true) * MsPerTick : 0);

    public Dictionary<string, object> AddTo(Dictionary<string, object> summary, (double Server, double Db) before)
    {
        var after = Read();
        var requests = (int)summary["requests"];
        var units = summary.TryGetValue("instances_per_s", out var rate) && summary.TryGetValue("seconds", out var seconds)
            ? (double)rate * (double)seconds : requests;
        if (serverPid is not null)
        {
            summary["server_cpu_ms"] = Math.Round(after.Server - before.Server);
            summary["server_cpu_ms_per_unit"] = units == 0 ? 0 : Math.Round((after.Server - before.Server) / units, 3);
        }

        if (dbPid is not null)
        {
            summary["db_cpu_ms"] = Math.Round(after.Db - before.Db);
            summary["db_cpu_ms_per_unit"] = units == 0 ? 0 : Math.Round((after.Db - before.Db) / units, 3);
        }

        return summary;
    }

    private static long Ticks(int pid, bool children)
    {
        var (own, reaped, _) = Stat(pid);
        var total = own + (children ? reaped : 0);
        if (children)
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out var child) && Stat(child) is var (childOwn, _, parent) && parent == pid)
                {
                    total += childOwn;
                }
            }
        }

        return total;
    }

    private static (long Own, long Reaped, int Parent) Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var f = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(f[11]) + long.Parse(f[12]), long.Parse(f[13]) + long.Parse(f[14]), int.Parse(f[1]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return (0, 0, -1);
        }
    }
}
