using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.IO.Compression;
using System.Text.Json;
using EventSourced.Web.Tests.Pathology;
using EventSourced.Web.Tests.Support;
using static EventSourced.Web.Tests.Forwarding.ForwardingSupport;

namespace EventSourced.Web.Tests.Forwarding;

/// <summary>
/// The non-DICOM variant: a Forward Non DICOM Slides job POSTs the slide files of a container identifier
/// (uploaded through pathoRsListener) to an HTTP endpoint (here a real HttpListener recording each request),
/// with the configured Authorization header: a single-file slide as received, a MIRAX slide as the zip
/// wholeslide serves. A container holding only DICOM instances has no such slide: 404.
/// </summary>
public sealed class ForwardSlidesTests : IAsyncLifetime
{
    private const string Tenant = "slides";
    private const string Authorization = "Bearer slide-receiver-secret";

    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    /// <summary>The scanner node pathoRsListener needs and a slides job to the receiver; retries an hour apart (the test makes them due).</summary>
    private static Dictionary<string, string?> Settings(RecordingEndpoint receiver) => new()
    {
        ["Nodes:Dicom:1:AeTitle"] = Scanner,
        [$"Forwarding:Jobs:{SlidesJob}:Type"] = "ForwardNonDicomSlides",
        [$"Forwarding:Jobs:{SlidesJob}:Endpoint"] = receiver.Url,
        [$"Forwarding:Jobs:{SlidesJob}:Authorization"] = Authorization,
        ["Forwarding:FirstRetryDelay"] = "01:00:00",
    };

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    [Fact]
    public async Task The_slide_files_of_a_container_reach_the_endpoint_byte_identical_with_the_configured_authorization_after_a_refused_first_attempt()
    {
        await using var receiver = new RecordingEndpoint(refuseFirst: 1);
        await using var app = new AppFactory(database.ConnectionString, Settings(receiver));
        var client = await app.ClientForTenantAsync(Tenant);

        // A tiled TIFF slide, and a DICOM series carrying the same container identifier (not a non-DICOM slide: not sent).
        var container = Unique("CNT");
        var tiff = SlideFiles.TiledTiff(48, 32, seed: 21);
        var tiffHash = SlideFiles.Sha1(tiff);
        var slide = await UploadSlideAsync(client, container, tiff, "slide 7.tiff", "image/tiff", tiffHash);
        await StoreSeriesAsync(client, 1, container: container);

        var (status, body) = await PostForwardAsync(client, new { containerIdentifier = container, author = "jane" });
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        var id = Guid.Parse(Assert.Single(body.GetProperty("forwards").EnumerateArray()).GetString()!);

        // The endpoint answers the first request 503: the attempt fails and waits for its retry.
        var failed = await UntilAsync(client, id, "pending", 1);
        Assert.Contains("503", failed.GetProperty("lastError").GetString());
        Assert.Equal(1, await ScheduledMessages.MakeDueAsync(database.ConnectionString, "SendForward"));
        var delivered = await UntilAsync(client, id, "delivered", 2);
        Assert.Equal(1, delivered.GetProperty("files").GetInt32());
        Assert.Equal(tiff.Length, delivered.GetProperty("bytes").GetInt64());
        Assert.Equal("nonDicomSlides", delivered.GetProperty("kind").GetString());
        Assert.Equal(container, delivered.GetProperty("key").GetString());

        Assert.Equal(2, receiver.Requests.Count);
        Assert.All(receiver.Requests, r =>
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal(Authorization, r.Authorization);
            Assert.Equal(container, r.Container);
            Assert.Equal(id.ToString(), r.ForwardId);
            Assert.Equal("application/octet-stream", r.ContentType);
            Assert.Equal("slide 7.tiff", r.FileName);
        });
        var accepted = Assert.Single(receiver.Requests, r => r.Status == 200);
        Assert.Equal(tiffHash, SlideFiles.Sha1(accepted.Body)); // the fileHash sent at upload
        Assert.Equal(tiff, accepted.Body);

        var study = slide.GetProperty("StudyInstanceUID").GetString()!;
        var feed = await Eventually.Until(() => StudyEventsAsync(client, study),
            events => events.Any(e => e.GetProperty("kind").GetString() == "SeriesForwarded"), TimeSpan.FromSeconds(30), "the delivery in the feed");
        Assert.Single(feed, e => e.GetProperty("kind").GetString() == "ForwardFailed");
        Assert.Equal(slide.GetProperty("SeriesInstanceUID").GetString(), Assert.Single(feed, e => e.GetProperty("kind").GetString() == "ForwardRequested").GetProperty("seriesInstanceUid").GetString());
    }

    [Fact]
    public async Task A_MIRAX_slide_is_sent_as_the_zip_wholeslide_serves_and_a_container_of_DICOM_only_is_not_found()
    {
        await using var receiver = new RecordingEndpoint(refuseFirst: 0);
        await using var app = new AppFactory(database.ConnectionString, Settings(receiver));
        var client = await app.ClientForTenantAsync(Tenant);
        var container = Unique("MRX");
        var (zip, index, slideEntries) = SlideFiles.MiraxZip("CMU-9", seed: 22);
        await UploadSlideAsync(client, container, zip, "CMU-9.zip", "application/zip", SlideFiles.Sha1(index));

        // Only DICOM instances (here a CT series) under a container identifier: no non-DICOM slide, 404, nothing recorded.
        var dicomOnly = Unique("DCM");
        await StoreSeriesAsync(client, 1, container: dicomOnly);
        var events = await ForwardEventCountAsync(database.ConnectionString);
        var (missing, problem) = await PostForwardAsync(client, new { containerIdentifier = dicomOnly, author = "jane" });
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal("Not found: container identifier not found.", problem.GetProperty("detail").GetString());
        Assert.Equal(events, await ForwardEventCountAsync(database.ConnectionString));

        var (status, body) = await PostForwardAsync(client, new { containerIdentifier = container, author = "jane" });
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        var id = Guid.Parse(Assert.Single(body.GetProperty("forwards").EnumerateArray()).GetString()!);
        var delivered = await UntilAsync(client, id, "delivered", 1);

        var sent = Assert.Single(receiver.Requests);
        Assert.Equal((200, Authorization, "application/zip", "CMU-9.zip"), (sent.Status, sent.Authorization, sent.ContentType, sent.FileName));
        Assert.Equal(sent.Body.Length, delivered.GetProperty("bytes").GetInt64());
        var served = await client.GetByteArrayAsync($"/o3-dpacs-wado/wholeslide?barcode={container}");
        Assert.Equal(Entries(served), Entries(sent.Body)); // what wholeslide serves, entry for entry
        var files = Entries(sent.Body);
        Assert.Equal(slideEntries.Keys.Order(), files.Keys.Order()); // the .mrxs and its data folder, the README left out
        Assert.Equal(SlideFiles.Sha1(index), SlideFiles.Sha1(Convert.FromBase64String(files["CMU-9.mrxs"]))); // the fileHash sent at upload
        Assert.All(slideEntries, e => Assert.Equal(Convert.ToBase64String(e.Value), files[e.Key]));
    }

    private static SortedDictionary<string, string> Entries(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return new SortedDictionary<string, string>(archive.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var content = new MemoryStream();
            using (var stream = e.Open())
            {
                stream.CopyTo(content);
            }

            return Convert.ToBase64String(content.ToArray());
        }), StringComparer.Ordinal);
    }

    /// <summary>An HTTP endpoint on a free loopback port that records every request and refuses the first few with 503.</summary>
    private sealed class RecordingEndpoint : IAsyncDisposable
    {
        private readonly HttpListener listener = new();
        private readonly Task loop;
        private int refuse;

        public RecordingEndpoint(int refuseFirst)
        {
            refuse = refuseFirst;
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/slides/";
            }

            listener.Prefixes.Add(Url);
            listener.Start();
            loop = Task.Run(ServeAsync);
        }

        public string Url { get; }

        public ConcurrentQueue<Received> Requests { get; } = new();

        public sealed record Received(string Method, string? Authorization, string? Container, string? ForwardId, string? ContentType, string? FileName, byte[] Body, int Status);

        private async Task ServeAsync()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                var status = Interlocked.Decrement(ref refuse) >= 0 ? 503 : 200;
                var disposition = context.Request.Headers["Content-Disposition"];
                Requests.Enqueue(new Received(
                    context.Request.HttpMethod,
                    context.Request.Headers["Authorization"],
                    context.Request.Headers["X-Container-Identifier"],
                    context.Request.Headers["X-Forward-Id"],
                    context.Request.ContentType,
                    disposition is null ? null : System.Net.Http.Headers.ContentDispositionHeaderValue.Parse(disposition).FileName?.Trim('"'),
                    body.ToArray(),
                    status));
                context.Response.StatusCode = status;
                context.Response.Close();
            }
        }

        public async ValueTask DisposeAsync()
        {
            listener.Stop();
            listener.Close();
            await loop;
        }
    }
}
