namespace EventSourced.Web.Tests.Support;

/// <summary>
/// A database of the shared test cluster and a temporary folder (blobs, generated files), both removed at the
/// end: for tests that run their own service process, peer or client rather than the shared fixture.
/// </summary>
public sealed class ScratchSpace(string name) : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public string ConnectionString => database.ConnectionString;

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "eventsourced-" + name, Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }
}
