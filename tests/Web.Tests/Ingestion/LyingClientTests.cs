using System.Net.Sockets;
using System.Text;
using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.Ingestion;

/// <summary>
/// A STOW client that announces more bytes than it sends and hangs up mid-instance (real Kestrel, a raw
/// socket): nothing of the broken upload may remain: no temporary file, no blob, no event.
/// </summary>
public sealed class LyingClientTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task A_request_shorter_than_its_Content_Length_leaves_nothing_behind()
    {
        await using var app = new AppFactory(database.ConnectionString);
        app.UseKestrel(0);
        app.StartServer();
        var key = await app.IssueKeyAsync("lying-tests", [.. Domain.Tenants.Scopes.All]);
        using var probe = app.CreateClient();
        var port = probe.BaseAddress!.Port;

        var (instance, _, _, sop) = SyntheticInstances.Create();
        var head = "--b\r\nContent-Type: application/dicom\r\n\r\n"u8.ToArray();
        var declared = head.Length + instance.Length + "\r\n--b--\r\n".Length;
        var request = Encoding.ASCII.GetBytes(
            $"POST /dicomweb/studies HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {key}\r\n" +
            $"Content-Type: multipart/related; type=\"application/dicom\"; boundary=b\r\nContent-Length: {declared}\r\n\r\n");

        using (var connection = new TcpClient())
        {
            await connection.ConnectAsync("127.0.0.1", port);
            var stream = connection.GetStream();
            await stream.WriteAsync(request);
            await stream.WriteAsync(head);
            await stream.WriteAsync(instance.AsMemory(0, instance.Length / 2)); // half the instance, then hang up
            await Task.Delay(500);
        }

        // The server notices the early end, drops the part, and must have left no trace of it.
        await Eventually.Until(
            () => Task.FromResult(Directory.GetFiles(Path.Combine(app.BlobRoot, "tmp")).Length),
            n => n == 0, TimeSpan.FromSeconds(30), "the temporary file of the broken upload to be removed");
        Assert.Empty(Directory.GetFiles(Path.Combine(app.BlobRoot, "objects"), "*", SearchOption.AllDirectories));
        await using var connectionToDb = new NpgsqlConnection(database.ConnectionString);
        await connectionToDb.OpenAsync();
        var events = (long)(await new NpgsqlCommand("select count(*) from eventsourced.mt_events where type = 'instance_stored'", connectionToDb).ExecuteScalarAsync())!;
        Assert.Equal(0, events);

        // And the service is fine: the same instance, sent honestly, is stored.
        probe.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key);
        var ok = await probe.PostAsync("/dicomweb/studies", Multipart.Related(instance));
        Assert.Equal(System.Net.HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains(sop, await ok.Content.ReadAsStringAsync());
    }
}
