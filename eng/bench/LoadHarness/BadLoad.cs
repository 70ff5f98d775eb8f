using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace LoadHarness;

/// <summary>
/// Bad load: many clients at once, each looping over a mix of STOW-RS (a new study each time), QIDO-RS
/// and WADO-RS (an instance already acknowledged) for a fixed time, while something outside (eng/bench/
/// bad-load.sh) may restart PostgreSQL. Every response is recorded (completion time, operation, status,
/// Retry-After present, latency); a request that exceeds the client timeout or loses its connection is
/// recorded with status 0. Afterwards every acknowledged instance (listed in a STOW answer's
/// ReferencedSOPSequence) is retrieved once more: none may be missing.
/// </summary>
internal static class BadLoad
{
    public static async Task<Dictionary<string, object>> RunAsync(Uri baseUrl, IReadOnlyList<(string, string)> headers,
        SyntheticCorpus corpus, int clients, int seconds, TimeSpan clientTimeout, string? eventsPath)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = baseUrl, Timeout = clientTimeout };
        foreach (var (name, value) in headers)
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        }

        var events = new List<(double At, string Op, int Status, bool RetryAfter, double Ms, string? Error)>();
        var acknowledged = new List<(int Study, int Series, int Instance)>();
        var nextStudy = -1;
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var until = TimeSpan.FromSeconds(seconds);

        await Parallel.ForEachAsync(Enumerable.Range(0, clients), new ParallelOptions { MaxDegreeOfParallelism = clients }, async (client, _) =>
        {
            var random = new Random(client * 7919 + 1);
            while (clock.Elapsed < until)
            {
                var roll = random.Next(3);
                int study = -1;
                HttpRequestMessage request;
                string op;
                (int, int, int)[] known;
                lock (acknowledged)
                {
                    known = acknowledged.Count == 0 ? [] : [acknowledged[random.Next(acknowledged.Count)]];
                }

                if (roll == 0 || known.Length == 0)
                {
                    study = Interlocked.Increment(ref nextStudy);
                    if (study >= corpus.Studies)
                    {
                        study = -1;
                        op = "qido";
                        request = new HttpRequestMessage(HttpMethod.Get, $"studies?PatientID={corpus.PatientId(random.Next(10))}");
                    }
                    else
                    {
                        op = "stow";
                        request = new HttpRequestMessage(HttpMethod.Post, "studies") { Content = Stow.Content(corpus, study) };
                    }
                }
                else if (roll == 1)
                {
                    op = "qido";
                    request = new HttpRequestMessage(HttpMethod.Get, random.Next(2) == 0
                        ? $"studies?PatientID={corpus.PatientId(random.Next(10))}"
                        : $"series?Modality={corpus.Modality(random.Next(corpus.Studies), 0)}&limit=50");
                    request.Headers.Accept.ParseAdd("application/dicom+json");
                }
                else
                {
                    op = "wado";
                    var (s, se, i) = known[0];
                    request = new HttpRequestMessage(HttpMethod.Get, $"studies/{corpus.StudyUid(s)}/series/{corpus.SeriesUid(s, se)}/instances/{corpus.SopUid(s, se, i)}");
                    request.Headers.Accept.ParseAdd("multipart/related; type=\"application/dicom\"; transfer-syntax=*");
                }

                var begun = Stopwatch.GetTimestamp();
                int status;
                bool retryAfter = false;
                string? error = null;
                try
                {
                    using (request)
                    using (var response = await http.SendAsync(request))
                    {
                        var body = await response.Content.ReadAsByteArrayAsync();
                        status = (int)response.StatusCode;
                        retryAfter = response.Headers.RetryAfter is not null;
                        if (op == "stow" && response.IsSuccessStatusCode)
                        {
                            var sops = Stow.Referenced(body);
                            lock (acknowledged)
                            {
                                for (var se = 0; se < corpus.SeriesPerStudy; se++)
                                {
                                    for (var i = 0; i < corpus.InstancesPerSeries; i++)
                                    {
                                        if (sops.Contains(corpus.SopUid(study, se, i)))
                                        {
                                            acknowledged.Add((study, se, i));
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    status = 0;
                    error = e is TaskCanceledException ? "client timeout" : e.Message;
                    await Task.Delay(100);
                }

                var record = (clock.Elapsed.TotalSeconds, op, status, retryAfter, Stopwatch.GetElapsedTime(begun).TotalMilliseconds, error);
                lock (events)
                {
                    events.Add(record);
                }

                if (status == 503)
                {
                    await Task.Delay(200); // a client that honours Retry-After would wait longer; this one keeps the pressure on
                }
            }
        });

        // Every acknowledged instance is retrievable now (a few retries while the service settles).
        var missing = new List<string>();
        await Parallel.ForEachAsync(acknowledged, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (a, _) =>
        {
            var (s, se, i) = a;
            for (var attempt = 0; ; attempt++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"studies/{corpus.StudyUid(s)}/series/{corpus.SeriesUid(s, se)}/instances/{corpus.SopUid(s, se, i)}");
                request.Headers.Accept.ParseAdd("multipart/related; type=\"application/dicom\"; transfer-syntax=*");
                using var response = await http.SendAsync(request);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                if ((int)response.StatusCode != 503 || attempt == 5)
                {
                    lock (missing)
                    {
                        missing.Add($"{corpus.SopUid(s, se, i)}: {(int)response.StatusCode}");
                    }

                    return;
                }

                await Task.Delay(1000);
            }
        });

        if (eventsPath is not null)
        {
            await File.WriteAllLinesAsync(eventsPath, events.OrderBy(e => e.At).Select(e => JsonSerializer.Serialize(new
            {
                at_s = Math.Round(e.At, 3), op = e.Op, status = e.Status, retry_after = e.RetryAfter, ms = Math.Round(e.Ms, 1), error = e.Error,
            })));
        }

        return new Dictionary<string, object>
        {
            ["started_unix_ms"] = started.ToUnixTimeMilliseconds(),
            ["clients"] = clients,
            ["seconds"] = seconds,
            ["requests"] = events.Count,
            ["by_status"] = events.GroupBy(e => e.Status.ToString()).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()),
            ["by_op_status"] = events.GroupBy(e => $"{e.Op} {e.Status}").OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()),
            ["server_errors_not_503"] = events.Count(e => e.Status >= 500 && e.Status != 503),
            ["503_without_retry_after"] = events.Count(e => e.Status == 503 && !e.RetryAfter),
            ["client_timeouts_or_connection_errors"] = events.Count(e => e.Status == 0),
            ["max_latency_ms"] = events.Count == 0 ? 0 : Math.Round(events.Max(e => e.Ms), 1),
            ["acknowledged_instances"] = acknowledged.Count,
            ["acknowledged_missing"] = missing,
        };
    }
}

/// <summary>A STOW-RS request body of one study of the corpus, and the SOP Instance UIDs its answer acknowledges.</summary>
internal static class Stow
{
    private const string Boundary = "bench-boundary-7d3f";

    public static HttpContent Content(SyntheticCorpus corpus, int s) => Content(Body(corpus, s));

    /// <summary>Study <paramref name="s"/>'s body as <see cref="Content(byte[])"/> sends it.</summary>
    public static byte[] Body(SyntheticCorpus corpus, int s) => corpus.StowBody(s, 1, Boundary);

    /// <summary>One instance's body as <see cref="Content(byte[])"/> sends it.</summary>
    public static byte[] InstanceBody(SyntheticCorpus corpus, int s, int se, int i) => corpus.InstanceBody(s, se, i, Boundary);

    public static HttpContent Content(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/related; type=\"application/dicom\"; boundary={Boundary}");
        return content;
    }

    /// <summary>ReferencedSOPSequence (0008,1199) → ReferencedSOPInstanceUID (0008,1155) of a DICOM JSON answer.</summary>
    public static HashSet<string> Referenced(byte[] body)
    {
        var uids = new HashSet<string>();
        if (body.Length == 0)
        {
            return uids;
        }

        var root = JsonDocument.Parse(body).RootElement;
        if (root.TryGetProperty("00081199", out var sequence) && sequence.TryGetProperty("Value", out var items))
        {
            foreach (var item in items.EnumerateArray())
            {
                if (item.TryGetProperty("00081155", out var uid) && uid.TryGetProperty("Value", out var values))
                {
                    uids.Add(values[0].GetString()!);
                }
            }
        }

        return uids;
    }
}
