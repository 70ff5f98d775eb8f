using System.Net.Sockets;
using System.Text;
using EventSourced.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EventSourced.Web.Tests.Hosting;

/// <summary>
/// On shutdown the service refuses new connections but finishes the requests in flight: real Kestrel,
/// a raw socket (HttpClient would silently retry a closed connection and hide what the server did).
/// </summary>
public sealed class GracefulShutdownTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task A_request_in_flight_when_shutdown_starts_completes_and_new_connections_are_refused()
    {
        await using var app = new AppFactory(database.ConnectionString);
        app.UseKestrel(0);
        app.StartServer();
        var key = await app.IssueKeyAsync("shutdown-tests", [.. Domain.Tenants.Scopes.All]);
        using var probe = app.CreateClient();
        var port = probe.BaseAddress!.Port;

        var body = Encoding.UTF8.GetBytes(Support.Orders.ExampleBody(Support.Orders.NewStudyUid()).ToJsonString());
        var head = Encoding.ASCII.GetBytes(
            $"POST /o3-dpacs-wado/orders/create HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {key}\r\nContent-Type: text/json; charset=utf-8\r\nContent-Length: {body.Length}\r\n\r\n");
        using var connection = new TcpClient();
        await connection.ConnectAsync("127.0.0.1", port);
        var stream = connection.GetStream();
        await stream.WriteAsync(head);
        await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
        await Task.Delay(500); // the request is now being read by its endpoint

        app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        await Task.Delay(500);

        using (var late = new TcpClient())
        {
            await Assert.ThrowsAnyAsync<SocketException>(() => late.ConnectAsync("127.0.0.1", port));
        }

        await stream.WriteAsync(body.AsMemory(body.Length / 2));
        // The server answers and then closes the connection (it is shutting down): read to the end.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var response = new MemoryStream();
        await stream.CopyToAsync(response, timeout.Token);
        var text = Encoding.UTF8.GetString(response.ToArray());
        Assert.StartsWith("HTTP/1.1 200", text);
        Assert.Contains("Connection: close", text);
        Assert.Contains("\"orderId\"", text);
    }
}
