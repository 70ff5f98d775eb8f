using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.Hostile;

/// <summary>Alone: the memory and event-count figures are only meaningful with nothing else running in the process.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostileInputCollection
{
    public const string Name = "Hostile input";
}

/// <summary>The service on real Kestrel (raw sockets reach it with bytes HttpClient refuses to send).</summary>
public sealed class HostileInputFixture : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public AppFactory App { get; private set; } = null!;

    public string ConnectionString => database.ConnectionString;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        // Forward jobs of both kinds are configured, as in a real deployment: document e's 500s for a missing
        // forward configuration are then never an answer to bad input, and the walk accepts no 5xx at all.
        App = new AppFactory(database.ConnectionString, new Dictionary<string, string?>
        {
            ["Forwarding:Nodes:peer:Url"] = "http://127.0.0.1:9/dicom-web",
            ["Forwarding:Jobs:series:Type"] = "ForwardSeries",
            ["Forwarding:Jobs:series:Node"] = "peer",
            ["Forwarding:Jobs:slides:Type"] = "ForwardNonDicomSlides",
            ["Forwarding:Jobs:slides:Endpoint"] = "http://127.0.0.1:9/slides",
        });
        App.UseKestrel(0);
        App.StartServer();
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await database.DisposeAsync();
    }
}

/// <summary>
/// Every operation of the OpenAPI document (read at run time, so routes added later are walked too) with
/// hostile input, authenticated with credentials holding every scope: broken and truncated multipart
/// (related and form-data), wrong and missing content types, NUL, control bytes and invalid UTF-8 in the
/// path, the query, headers and JSON, deeply nested and huge JSON, huge headers, path traversal in UIDs,
/// numbers out of range and duplicated parameters. No answer may be a 5xx; every error is a 4xx in the
/// shape of the route's API (document d's error_type under /api/v1, RFC 6749's error at the token
/// endpoint, problem details elsewhere); a rejected request appends no event; the service stays ready and
/// its managed heap stays bounded. The cases per operation are a fixed list, so the walk's length grows
/// with the number of routes only.
/// </summary>
[Collection(HostileInputCollection.Name)]
public sealed class HostileInputWalkTests(HostileInputFixture fixture) : IClassFixture<HostileInputFixture>
{
    private const string Tenant = "hostile-walk";
    private const string Boundary = "hostile-boundary-0123";

    private sealed record Operation(string Method, string Template, IReadOnlyList<string> QueryParameters, IReadOnlyList<string> HeaderParameters, bool HasBody)
    {
        public override string ToString() => $"{Method} {Template}";

        public bool IsArchive => Template.StartsWith("/api/v1", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>One hostile request: either an HttpRequestMessage or, for bytes HttpClient refuses, raw bytes on a socket.</summary>
    private sealed record Case(string Name, Func<Operation, Uri, Action<HttpRequestMessage>, HttpRequestMessage>? Build, Func<Operation, Uri, string, byte[]>? Raw = null, bool ServerMayAnswerBeforeRouting = false);

    private static readonly string[] PathValues = ["%00", "..%2F..%2F..%2Fetc%2Fpasswd", "%FF%FE%C0%AF", "1.2.3%0D%0AX-Injected:%201", "99999999999999999999999999"];

    private static readonly string[] QueryValues = ["%00", "%01%02%1B%7F", "%FF%FE", "-99999999999999999999999", "1e400", "..%2F..%2Fetc%2Fpasswd"];

    [Fact]
    public async Task No_route_answers_hostile_input_with_a_server_error_a_wrong_shape_or_a_half_written_state()
    {
        var operations = await OperationsAsync();
        Assert.True(operations.Count >= 40, $"the OpenAPI document should list the whole API, got {operations.Count} operations");
        Assert.Contains(operations, o => o.IsArchive);
        Assert.Contains(operations, o => o.Template == "/oauth2/token");

        var key = await fixture.App.IssueKeyAsync(Tenant, [.. Scopes.All]);
        var user = await fixture.App.RegisterUserAsync(Tenant, $"hostile-{Guid.NewGuid():N}"[..20], [.. Scopes.All]);
        void Credential(Operation operation, HttpRequestMessage request)
        {
            if (operation.IsArchive)
            {
                request.Headers.Add("X-USERNAME", user.Username);
                request.Headers.Add("X-PASSWORD", user.Password);
            }
            else
            {
                request.Headers.TryAddWithoutValidation("Authorization", key);
            }
        }

        string RawCredential(Operation operation) => operation.IsArchive
            ? $"X-USERNAME: {user.Username}\r\nX-PASSWORD: {user.Password}\r\n"
            : $"Authorization: {key}\r\n";

        Uri kestrel;
        using (var probe = fixture.App.CreateClient())
        {
            kestrel = probe.BaseAddress!;
        }

        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = kestrel, Timeout = TimeSpan.FromSeconds(60) };

        await using var database = new NpgsqlConnection(fixture.ConnectionString);
        await database.OpenAsync();

        var heapBefore = ManagedHeap();
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        var counts = new Dictionary<int, int>();
        var requests = 0;
        foreach (var operation in operations)
        {
            foreach (var hostile in Cases(operation))
            {
                // A request Kestrel refuses reaches no route: no need to look at the events.
                var eventsBefore = hostile.Raw is null ? await LastEventAsync(database) : 0;
                var (status, mediaType, body) = hostile.Raw is not null
                    ? await SendRawAsync(http.BaseAddress!, hostile.Raw(operation, http.BaseAddress!, RawCredential(operation)))
                    : await SendAsync(http, hostile.Build!(operation, http.BaseAddress!, request => Credential(operation, request)));
                requests++;
                counts[status] = counts.GetValueOrDefault(status) + 1;
                var where = $"{operation} [{hostile.Name}]";
                if (status is 0 or >= 500)
                {
                    failures.Add($"{where}: {status} {Shorten(body)}");
                    continue;
                }

                if (status >= 400)
                {
                    if (ShapeError(operation, status, mediaType, body, hostile.ServerMayAnswerBeforeRouting) is { } wrong)
                    {
                        failures.Add($"{where}: {status} {wrong}: {Shorten(body)}");
                    }

                    if (hostile.Raw is null && await LastEventAsync(database) != eventsBefore)
                    {
                        failures.Add($"{where}: {status} but events were appended");
                    }
                }
            }
        }

        clock.Stop();
        var ready = await http.GetAsync("/health/ready");
        var heapAfter = ManagedHeap();
        var summary = $"{requests} requests over {operations.Count} operations in {clock.Elapsed.TotalSeconds:F0} s; "
            + $"statuses {string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key}×{c.Value}"))}; "
            + $"managed heap {heapBefore / 1_048_576} MB → {heapAfter / 1_048_576} MB";
        Console.WriteLine(summary);

        Assert.True(failures.Count == 0, $"{failures.Count} failures ({summary}):\n" + string.Join("\n", failures.Take(200)));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.True(heapAfter - heapBefore < 128L * 1024 * 1024, summary);
    }

    private static long ManagedHeap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task<long> LastEventAsync(NpgsqlConnection database)
    {
        await using var command = new NpgsqlCommand("select coalesce(max(seq_id), 0) from eventsourced.mt_events", database);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<IReadOnlyList<Operation>> OperationsAsync()
    {
        using var client = fixture.App.CreateClient();
        var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json")).RootElement;
        var operations = new List<Operation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject().Where(m => m.Name is "get" or "post" or "put" or "patch" or "delete"))
            {
                var parameters = method.Value.TryGetProperty("parameters", out var list) ? list.EnumerateArray().ToList() : [];
                if (path.Value.TryGetProperty("parameters", out var shared))
                {
                    parameters.AddRange(shared.EnumerateArray());
                }

                string[] In(string where) => [.. parameters.Where(p => p.TryGetProperty("in", out var i) && i.GetString() == where).Select(p => p.GetProperty("name").GetString()!)];
                operations.Add(new Operation(
                    method.Name.ToUpperInvariant(), path.Name, In("query"), In("header"),
                    method.Value.TryGetProperty("requestBody", out _) || method.Name is "post" or "put" or "patch"));
            }
        }

        return operations;
    }

    /// <summary>The template with every {parameter} replaced by the same (already escaped) value.</summary>
    private static string Fill(string template, string value) =>
        System.Text.RegularExpressions.Regex.Replace(template, @"\{[^}]+\}", value);

    private static string Plain(string template) => Fill(template, "1.2.840.99999.1");

    private static string Query(Operation operation, string value, bool duplicate = false)
    {
        var names = operation.QueryParameters.Concat(["study_uid", "studyUid", "organizationId", "limit", "offset"]).Distinct();
        var pairs = names.SelectMany(n => duplicate ? new[] { $"{Uri.EscapeDataString(n)}=1", $"{Uri.EscapeDataString(n)}={value}" } : [$"{Uri.EscapeDataString(n)}={value}"]);
        return "?" + string.Join("&", pairs);
    }

    private static HttpRequestMessage Request(Operation operation, Uri baseAddress, string pathAndQuery, Action<HttpRequestMessage> credential, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(operation.Method), new Uri(baseAddress, pathAndQuery)) { Content = content };
        credential(request);
        return request;
    }

    private static ByteArrayContent Bytes(byte[] bytes, string? contentType)
    {
        var content = new ByteArrayContent(bytes);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        return content;
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private static IEnumerable<Case> Cases(Operation operation)
    {
        foreach (var value in PathValues.Where(_ => operation.Template.Contains('{')))
        {
            // Kestrel itself refuses a NUL in the decoded path (400, empty), before any route.
            yield return new Case($"path {value}", (o, b, c) => Request(o, b, Fill(o.Template, value), c, o.HasBody ? Bytes("{}"u8.ToArray(), "application/json") : null),
                ServerMayAnswerBeforeRouting: value.Contains("%00", StringComparison.Ordinal));
        }

        foreach (var value in QueryValues)
        {
            yield return new Case($"query {value}", (o, b, c) => Request(o, b, Plain(o.Template) + Query(o, value), c));
        }

        yield return new Case("duplicated parameters", (o, b, c) => Request(o, b, Plain(o.Template) + Query(o, "2", duplicate: true), c));

        yield return new Case("control bytes in declared headers", (o, b, c) =>
        {
            var request = Request(o, b, Plain(o.Template), c);
            foreach (var header in o.HeaderParameters.Concat(["Accept", "If-None-Match", "X-Request-Id"]).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                request.Headers.Remove(header);
                request.Headers.TryAddWithoutValidation(header, "\u0001\u001b[31m\u007f");
            }

            return request;
        });

        yield return new Case("huge header", (o, b, c) =>
        {
            var request = Request(o, b, Plain(o.Template), c);
            request.Headers.TryAddWithoutValidation("X-Huge", new string('a', 64 * 1024));
            return request;
        }, ServerMayAnswerBeforeRouting: true);

        yield return new Case("raw NUL, control and invalid UTF-8 bytes in the path", null,
            (o, b, credential) => [.. Ascii($"{o.Method} {Fill(o.Template, "1.2.3")}"), 0x00, 0x01, 0xFF, 0xFE, .. Ascii($" HTTP/1.1\r\nHost: {b.Authority}\r\n{credential}Content-Length: 0\r\nConnection: close\r\n\r\n")],
            ServerMayAnswerBeforeRouting: true);

        yield return new Case("raw invalid UTF-8 in a header and a query", null,
            (o, b, credential) => [.. Ascii($"{o.Method} {Plain(o.Template)}?studyUid="), 0xC3, 0x28, 0xFF, .. Ascii($" HTTP/1.1\r\nHost: {b.Authority}\r\n{credential}X-Odd: "), 0xFF, 0xFE, 0x00, .. Ascii("\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")],
            ServerMayAnswerBeforeRouting: true);

        if (!operation.HasBody)
        {
            yield break;
        }

        var nested = new string('[', 5000) + new string(']', 5000);
        var huge = "{\"a\":\"" + new string('x', 1536 * 1024) + "\"}"; // over every JSON bound the routes set
        foreach (var (name, bytes, type) in new (string, byte[], string?)[]
        {
            ("JSON nested 5000 deep", Encoding.UTF8.GetBytes(nested), "application/json"),
            ("huge JSON", Encoding.UTF8.GetBytes(huge), "application/json"),
            ("JSON with NUL and control characters", Encoding.UTF8.GetBytes("{\"report_ids\":[\"\\u0000\"],\"order_ids\":[\"\\u0001\"],\"PatientID\":\"\\u0000\\u001b\",\"limit\":1e400,\"n\":-99999999999999999999999999}"), "application/json"),
            ("JSON with invalid UTF-8", [.. "{\"PatientID\":\""u8.ToArray(), 0xC3, 0x28, 0xFF, .. "\"}"u8.ToArray()], "application/json"),
            ("JSON truncated", "{\"PatientID\":\"P"u8.ToArray(), "text/json"),
            ("no content type", "{\"a\":1}"u8.ToArray(), null),
            ("wrong content type", "hello"u8.ToArray(), "text/plain"),
            ("content type garbage", "hello"u8.ToArray(), "\u0001/;;;boundary==="),
            ("DICOM garbage", "DICM not really a DICOM file"u8.ToArray(), "application/dicom"),
            ("related without boundary", "--x\r\n\r\nabc"u8.ToArray(), "multipart/related; type=\"application/dicom\""),
            ("related truncated", Ascii($"--{Boundary}\r\nContent-Type: application/dicom\r\n\r\n\0\0\0\0DICM"), $"multipart/related; type=\"application/dicom\"; boundary={Boundary}"),
            ("related malformed part headers", Ascii($"--{Boundary}\r\nContent-Type\r\n\u0001\u0002: ::\r\n\r\nabc\r\n--{Boundary}--\r\n"), $"multipart/related; type=\"application/dicom\"; boundary={Boundary}"),
            ("related boundary 300 characters, never closed", Ascii($"--{new string('b', 300)}\r\nContent-Type: application/dicom\r\n\r\nabc"), $"multipart/related; type=\"application/dicom\"; boundary={new string('b', 300)}"),
            ("form-data truncated", Ascii($"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.dcm\"\r\nContent-Type: application/dicom\r\n\r\nDICM"), $"multipart/form-data; boundary={Boundary}"),
            ("form-data without Content-Disposition", Ascii($"--{Boundary}\r\nContent-Type: application/dicom\r\n\r\nabc\r\n--{Boundary}--\r\n"), $"multipart/form-data; boundary={Boundary}"),
            ("form-data with a broken Content-Disposition", Ascii($"--{Boundary}\r\nContent-Disposition: ;;;name=\r\n\r\nabc\r\n--{Boundary}--\r\n"), $"multipart/form-data; boundary={Boundary}"),
            ("urlencoded with NUL and invalid escapes", "grant_type=%00&scope=%FF%FE&client_id=%&x=%zz"u8.ToArray(), "application/x-www-form-urlencoded"),
        })
        {
            yield return new Case($"body: {name}", (o, b, c) => Request(o, b, Plain(o.Template) + "?organizationId=" + Tenant + "&report_type=pdf", c, Bytes(bytes, type)));
        }
    }

    private static async Task<(int Status, string? MediaType, string Body)> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        try
        {
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body);
        }
        catch (HttpRequestException e)
        {
            // The server may close the connection after answering a request whose body it refuses to read.
            return (0, null, e.Message);
        }
    }

    /// <summary>Sends the bytes as they are and reads the status line, headers and body of the answer.</summary>
    private static async Task<(int Status, string? MediaType, string Body)> SendRawAsync(Uri baseAddress, byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(baseAddress.Host, baseAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(request);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var answer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(answer, timeout.Token);
        }
        catch (IOException)
        {
            // A reset after the answer: keep what arrived.
        }

        var text = Encoding.UTF8.GetString(answer.ToArray());
        var lines = text.Split("\r\n");
        if (lines.Length == 0 || !lines[0].StartsWith("HTTP/1.1 ", StringComparison.Ordinal))
        {
            return (0, null, text);
        }

        var status = int.Parse(lines[0].AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        var contentType = lines.Skip(1).TakeWhile(l => l.Length > 0)
            .FirstOrDefault(l => l.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase))?[13..].Trim();
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var body = split < 0 ? "" : text[(split + 4)..];
        return (status, contentType is null ? null : MediaTypeHeaderValue.Parse(contentType).MediaType, body);
    }

    /// <summary>Why the error's shape is not the one its API documents, or null when it is.</summary>
    private static string? ShapeError(Operation operation, int status, string? mediaType, string body, bool serverMayAnswerBeforeRouting)
    {
        // Kestrel refuses some requests (431, 400 for bytes HTTP does not allow) before any route sees them:
        // an empty answer, as from any HTTP server.
        if (serverMayAnswerBeforeRouting && body.Length == 0)
        {
            return null;
        }

        JsonElement json;
        try
        {
            json = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            return $"not JSON ({mediaType})";
        }

        if (operation.IsArchive)
        {
            return json.ValueKind == JsonValueKind.Object && json.TryGetProperty("error_type", out var type) && type.ValueKind == JsonValueKind.String
                && json.TryGetProperty("message", out _)
                ? null
                : "not document d's error_type shape";
        }

        if (operation.Template.StartsWith("/oauth2/", StringComparison.Ordinal) && json.ValueKind == JsonValueKind.Object && json.TryGetProperty("error", out _))
        {
            return null; // RFC 6749 §5.2
        }

        // Document e's createKos answers its failures with its own body: {"success": false, "errorCode": "…"}.
        if (operation.Template == "/o3-dpacs-wado/studies/createKos" && json.ValueKind == JsonValueKind.Object
            && json.TryGetProperty("success", out var success) && success.ValueKind == JsonValueKind.False
            && json.TryGetProperty("errorCode", out var code) && code.ValueKind == JsonValueKind.String)
        {
            return null;
        }

        // PS3.18: a STOW-RS failure may answer with the DICOM JSON response data set.
        if (mediaType == "application/dicom+json" && operation.Template.StartsWith("/dicomweb", StringComparison.Ordinal))
        {
            return null;
        }

        return mediaType == "application/problem+json" && json.ValueKind == JsonValueKind.Object
            && json.TryGetProperty("status", out var problemStatus) && problemStatus.GetInt32() == status
            ? null
            : $"not problem details ({mediaType})";
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
