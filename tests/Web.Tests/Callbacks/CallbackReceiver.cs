using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventSourced.Web.Tests.Callbacks;

/// <summary>One delivery attempt as the receiver saw it, and what it answered.</summary>
public sealed record ReceivedDelivery(string Path, int Answered, string? CallbackId, string? Timestamp, string? Signature, byte[] Body);

/// <summary>
/// A real HTTP endpoint on 127.0.0.1 (Kestrel, free port) standing in for a CALLBACK_URLS receiver. What it
/// answers is decided per request by <see cref="Answer"/> from the path and the attempt number of that
/// callback at that path (1 for the first).
/// </summary>
public sealed class CallbackReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<(string, string), int> attempts = new();

    private CallbackReceiver(WebApplication app) => this.app = app;

    public ConcurrentQueue<ReceivedDelivery> Deliveries { get; } = new();

    public Func<string, int, int> Answer { get; set; } = (_, _) => StatusCodes.Status200OK;

    public string BaseAddress { get; private set; } = "";

    public string Url(string path) => $"{BaseAddress}{path}";

    public static async Task<CallbackReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new CallbackReceiver(app);
        app.Map("/{**path}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var path = context.Request.Path.Value ?? "";
            var id = context.Request.Headers["X-Callback-Id"].ToString();
            var attempt = receiver.attempts.AddOrUpdate((path, id), 1, (_, n) => n + 1);
            var status = receiver.Answer(path, attempt);
            receiver.Deliveries.Enqueue(new ReceivedDelivery(path, status, id,
                context.Request.Headers["X-Callback-Timestamp"].ToString(), context.Request.Headers["X-Callback-Signature"].ToString(), body.ToArray()));
            context.Response.StatusCode = status;
        });
        await app.StartAsync();
        receiver.BaseAddress = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return receiver;
    }

    public List<ReceivedDelivery> For(string path, Guid callbackId) =>
        [.. Deliveries.Where(d => d.Path == path && d.CallbackId == callbackId.ToString())];

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
