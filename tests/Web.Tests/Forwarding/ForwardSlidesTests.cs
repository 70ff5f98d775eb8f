using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using EventSourced.Web.Tests.Support;
using static EventSourced.Web.Tests.Forwarding.ForwardingSupport;

namespace EventSourced.Web.Tests.Forwarding;

/// <summary>
/// The non-DICOM variant: a Forward Non DICOM Slides job POSTs the files of every series whose instances carry
/// the container identifier to an HTTP endpoint (here a real HttpListener recording each request), with the
/// configured Authorization header, the stored bytes as received.
/// </summary>
public sealed class ForwardSlidesTests : IAsyncLifetime
{
    private const string Tenant = "slides";
    private const string Authorization = "Bearer slide-receiver-secret";

    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task The_slides_of_a_container_reach_the_endpoint_with_the_configured_authorization_after_a_refused_first_attempt()
    {
        await using var receiver = new RecordingEndpoint(refuseFirst: 1);
        var settings = new Dictionary<string, string?>
        {
            [$"Forwarding:Jobs:{SlidesJob}:Type"] = "ForwardNonDicomSlides",
            [$"Forwarding:Jobs:{SlidesJob}:Endpoint"] = receiver.Url,
            [$"Forwarding:Jobs:{SlidesJob}:Authorization"] = Authorization,
            ["Forwarding:FirstRetryDelay"] = "01:00:00",
        };
        await using var app = new AppFactory(database.ConnectionString, settings);
        var client = await app.ClientForTenantAsync(Tenant);
        var container = "CNT-" + Guid.NewGuid().ToString("N")[..8];
        var first = await StoreSeriesAsync(client, 2, container: container);
        var second = await StoreSeriesAsync(client, 2, study: first[0].Study, container: container);
        var other = await StoreSeriesAsync(client, 1, study: first[0].Study, container: "CNT-OTHER-" + Guid.NewGuid().ToString("N")[..6]);

        var (status, body) = await PostForwardAsync(client, new { containerIdentifier = container, author = "jane" });
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        var id = Guid.Parse(Assert.Single(body.GetProperty("forwards").EnumerateArray()).GetString()!);

        // The endpoint answers the first request 503: the attempt fails and waits for its retry.
        var failed = await UntilAsync(client, id, "pending", 1);
        Assert.Contains("503", failed.GetProperty("lastError").GetString());
        Assert.Equal(1, await ScheduledMessages.MakeDueAsync(database.ConnectionString, "SendForward"));
        var delivered = await UntilAsync(client, id, "delivered", 2);
        Assert.Equal(4, delivered.GetProperty("files").GetInt32());
        Assert.Equal("nonDicomSlides", delivered.GetProperty("kind").GetString());
        Assert.Equal(container, delivered.GetProperty("key").GetString());

        var accepted = receiver.Requests.Where(r => r.Status == 200).ToList();
        var expected = first.Concat(second).ToDictionary(i => i.Sop + ".dcm", i => Convert.ToHexStringLower(SHA256.HashData(i.Bytes)));
        Assert.Equal(expected.OrderBy(p => p.Key), accepted.ToDictionary(r => r.FileName!, r => r.Sha256).OrderBy(p => p.Key));
        Assert.All(receiver.Requests, r =>
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal(Authorization, r.Authorization);
            Assert.Equal(container, r.Container);
            Assert.Equal(id.ToString(), r.ForwardId);
            Assert.Equal("application/dicom", r.ContentType);
        });
        Assert.DoesNotContain(accepted, r => r.FileName == other[0].Sop + ".dcm");

        var feed = await Eventually.Until(() => StudyEventsAsync(client, first[0].Study),
            events => events.Count(e => e.GetProperty("kind").GetString() == "SeriesForwarded") == 2, TimeSpan.FromSeconds(30), "the delivery in the feed");
        Assert.Equal(2, feed.Count(e => e.GetProperty("kind").GetString() == "ForwardFailed"));
        Assert.Equal(
            new[] { first[0].Series, second[0].Series }.Order(),
            feed.Where(e => e.GetProperty("kind").GetString() == "ForwardRequested").Select(e => e.GetProperty("seriesInstanceUid").GetString()!).Order());
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

        public sealed record Received(string Method, string? Authorization, string? Container, string? ForwardId, string? ContentType, string? FileName, string Sha256, int Status);

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
                    Convert.ToHexStringLower(SHA256.HashData(body.ToArray())),
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
