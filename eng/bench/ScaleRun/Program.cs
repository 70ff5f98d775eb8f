using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;
using LoadHarness;

// The scale run's two tools (eng/bench/scale.sh drives them):
//   load  --base-url URL [--header "Name: value"] [--seed 7] [--from 0] [--studies N] [--patients 20000]
//         [--size 32] [--clients 8] [--studies-per-request 4] [--out file.json]
//     stores studies [from, from+N) of the synthetic corpus (3 series × 5 instances each), several studies
//     per STOW request, bodies built ahead by a producer; a 503 is retried after its Retry-After and
//     counted; progress is written to the out file every 10 s so a cut-short run still leaves figures.
//   wide  --base-url URL [--header ...] [--repeat 20] [--clients 2] [--out file.json]
//     the wide QIDO queries (their answers span the whole archive), each repeated: p50/p99, rows, statuses.
const string Boundary = "scale-boundary-5e1b";
var verb = args.FirstOrDefault() ?? throw new ArgumentException("usage: ScaleRun load|wide --base-url URL ...");
string? Value(string name) => args.SkipWhile(a => a != "--" + name).Skip(1).FirstOrDefault();
int Int(string name, int fallback) => int.TryParse(Value(name), out var v) ? v : fallback;
var baseUrl = Value("base-url") ?? throw new ArgumentException("--base-url is required");
if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || !uri.IsLoopback)
{
    throw new ArgumentException("--base-url must be an absolute loopback URL: this tool only loads servers on this machine.");
}

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
{
    BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"),
    Timeout = TimeSpan.FromMinutes(5),
};
foreach (var header in args.Select((a, i) => (a, i)).Where(x => x.a == "--header" && x.i + 1 < args.Length).Select(x => args[x.i + 1].Split(':', 2)))
{
    http.DefaultRequestHeaders.TryAddWithoutValidation(header[0].Trim(), header[1].Trim());
}

var outFile = Value("out");
async Task Write(object summary)
{
    var json = JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true });
    if (outFile is not null)
    {
        await File.WriteAllTextAsync(outFile + ".tmp", json);
        File.Move(outFile + ".tmp", outFile, overwrite: true);
    }
    else
    {
        Console.WriteLine(json);
    }
}

var statuses = new Dictionary<int, int>();
void Count(int status)
{
    lock (statuses)
    {
        statuses[status] = statuses.GetValueOrDefault(status) + 1;
    }
}

object StatusCounts()
{
    lock (statuses)
    {
        return statuses.OrderBy(s => s.Key).ToDictionary(s => s.Key.ToString(), s => s.Value);
    }
}

int Fives()
{
    lock (statuses)
    {
        return statuses.Where(s => s.Key >= 500).Sum(s => s.Value);
    }
}

if (verb == "load")
{
    var seed = Int("seed", 7);
    var from = Int("from", 0);
    var studies = Int("studies", 1000);
    var perRequest = Int("studies-per-request", 4);
    var clients = Int("clients", 8);
    var corpus = new SyntheticCorpus(from + studies, 3, 5, Int("patients", 20000), Int("size", 32), seed);
    var perStudy = corpus.SeriesPerStudy * corpus.InstancesPerSeries;
    var bodies = Channel.CreateBounded<(int First, int Count, byte[] Body)>(clients * 2);
    var producer = Task.Run(async () =>
    {
        // One producer builds the bodies ahead, in order, while the clients send.
        for (var s = from; s < from + studies; s += perRequest)
        {
            var n = Math.Min(perRequest, from + studies - s);
            await bodies.Writer.WriteAsync((s, n, corpus.StowBody(s, n, Boundary)));
        }

        bodies.Writer.Complete();
    });
    var stored = 0L;
    var requests = 0L;
    var retries = 0L;
    var failedInstances = 0L;
    var latencies = new List<double>();
    var clock = Stopwatch.StartNew();
    object Summary(bool done) => new Dictionary<string, object>
    {
        ["seed"] = seed, ["from_study"] = from, ["studies"] = studies, ["studies_per_request"] = perRequest, ["clients"] = clients,
        ["size"] = Int("size", 32), ["done"] = done, ["instances_stored"] = Interlocked.Read(ref stored),
        ["instances_failed"] = Interlocked.Read(ref failedInstances), ["requests"] = Interlocked.Read(ref requests),
        ["retries_after_503"] = Interlocked.Read(ref retries), ["statuses"] = StatusCounts(), ["http_5xx"] = Fives(),
        ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        ["instances_per_s"] = Math.Round(Interlocked.Read(ref stored) / clock.Elapsed.TotalSeconds, 1),
        ["request_p50_ms"] = Percentile(latencies, 0.50), ["request_p99_ms"] = Percentile(latencies, 0.99),
    };
    using var progress = new Timer(_ => Write(Summary(false)).GetAwaiter().GetResult(), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
    // The degree set, or Parallel.ForEachAsync would run only as many clients at once as there are cores.
    await Parallel.ForEachAsync(Enumerable.Range(0, clients), new ParallelOptions { MaxDegreeOfParallelism = clients }, async (_, ct) =>
    {
        await foreach (var (first, n, body) in bodies.Reader.ReadAllAsync(ct))
        {
            for (var attempt = 0; ; attempt++)
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/related; type=\"application/dicom\"; boundary={Boundary}");
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync("studies", content, ct);
                await response.Content.ReadAsByteArrayAsync(ct);
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Interlocked.Increment(ref requests);
                Count((int)response.StatusCode);
                lock (latencies)
                {
                    latencies.Add(ms);
                }

                if (response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 20)
                {
                    Interlocked.Increment(ref retries);
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), ct);
                    continue;
                }

                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Add(ref stored, n * perStudy);
                }
                else
                {
                    Interlocked.Add(ref failedInstances, n * perStudy);
                    Console.Error.WriteLine($"STOW studies {first}..{first + n - 1}: {(int)response.StatusCode}");
                }

                break;
            }
        }
    });
    await producer;
    clock.Stop();
    progress.Dispose();
    await Write(Summary(true));
    return;
}

if (verb == "wide")
{
    var repeat = Int("repeat", 20);
    var clients = Int("clients", 2);
    // Wide queries: every answer spans the whole archive (every corpus uses the same names, stations,
    // modalities and dates), bounded by the server's page size where a limit is given.
    var kinds = new (string Name, string Url)[]
    {
        ("series_station_offset_0", "series?StationName=STATION0&limit=1000&offset=0"),
        ("series_station_offset_800", "series?StationName=STATION0&limit=1000&offset=800"),
        ("series_modality_ct", "series?Modality=CT&limit=100"),
        ("studies_date_quarter", "studies?StudyDate=20240101-20240331&limit=100"),
        ("studies_date_one_day", "studies?StudyDate=20240315"),
        ("studies_name_prefix_doe", "studies?PatientName=DOE*&limit=100"),
        ("studies_name_fuzzy_smi", "studies?PatientName=smi&fuzzymatching=true&limit=100"),
        ("studies_all_offset_5000", "studies?limit=100&offset=5000"),
        ("instances_sop_class", "instances?SOPClassUID=1.2.840.10008.5.1.4.1.1.7&limit=100"),
    };
    var result = new Dictionary<string, object>();
    foreach (var (name, url) in kinds)
    {
        var ms = new List<double>();
        var rows = new List<int>();
        var kindStatuses = new Dictionary<int, int>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, repeat), new ParallelOptions { MaxDegreeOfParallelism = clients }, async (_, ct) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("application/dicom+json");
            var started = Stopwatch.GetTimestamp();
            int status;
            var count = -1;
            try
            {
                using var response = await http.SendAsync(request, ct);
                var text = await response.Content.ReadAsStringAsync(ct);
                status = (int)response.StatusCode;
                count = !response.IsSuccessStatusCode ? -1 : text.Length == 0 ? 0
                    : JsonDocument.Parse(text).RootElement is { ValueKind: JsonValueKind.Array } array ? array.GetArrayLength() : -1;
            }
            catch (TaskCanceledException)
            {
                status = 0; // client timeout
            }

            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Count(status);
            lock (ms)
            {
                ms.Add(elapsed);
                rows.Add(count);
                kindStatuses[status] = kindStatuses.GetValueOrDefault(status) + 1;
            }
        });
        result[name] = new Dictionary<string, object>
        {
            ["url"] = url, ["requests"] = ms.Count, ["p50_ms"] = Percentile(ms, 0.50), ["p99_ms"] = Percentile(ms, 0.99),
            ["max_ms"] = Math.Round(ms.Max(), 1), ["rows"] = rows.Max(), ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2),
            ["statuses"] = kindStatuses.OrderBy(s => s.Key).ToDictionary(s => s.Key.ToString(), s => s.Value),
        };
    }

    result["http_5xx"] = Fives();
    await Write(result);
    return;
}

throw new ArgumentException($"unknown verb {verb}: load or wide");

static double Percentile(List<double> values, double q)
{
    double[] sorted;
    lock (values)
    {
        sorted = values.Order().ToArray();
    }

    return sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)], 1);
}
