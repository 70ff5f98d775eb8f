using System.Diagnostics;
using EventSourced.Application.Blobs;
using EventSourced.Web.Infrastructure.Blobs;

namespace EventSourced.Web.Tests.Blobs;

public sealed class LocalDiskBlobStoreTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "eventsourced-blob-tests", Guid.NewGuid().ToString("N"));
    private readonly LocalDiskBlobStore store;

    public LocalDiskBlobStoreTests() => store = new LocalDiskBlobStore(root);

    public void Dispose() => Directory.Delete(root, recursive: true);

    private async Task<BlobReference> StoreAsync(byte[] bytes, int chunk = 7919)
    {
        await using var write = store.BeginWrite();
        for (var offset = 0; offset < bytes.Length; offset += chunk)
        {
            await write.Content.WriteAsync(bytes.AsMemory(offset, Math.Min(chunk, bytes.Length - offset)));
        }

        return await write.CommitAsync(CancellationToken.None);
    }

    private static byte[] Bytes(int length, int seed) => [.. Enumerable.Range(0, length).Select(i => (byte)((i * 31) + seed))];

    private string[] TempFiles() => Directory.GetFiles(Path.Combine(root, "tmp"));

    [Fact]
    public async Task The_address_and_hashes_are_what_coreutils_computes_and_the_bytes_come_back()
    {
        var bytes = Bytes(1_000_003, 1);
        var reference = await StoreAsync(bytes);

        var file = Path.Combine(root, "plain");
        await File.WriteAllBytesAsync(file, bytes);
        Assert.Equal(await Tool("sha256sum", file), reference.Sha256);
        Assert.Equal(await Tool("sha1sum", file), reference.Sha1);
        Assert.Equal(bytes.Length, reference.Length);

        await using var read = store.OpenRead(reference.Sha256)!;
        var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        Assert.Equal(bytes, copy.ToArray());
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task The_same_bytes_stored_twice_and_concurrently_are_one_blob()
    {
        var bytes = Bytes(300_000, 2);
        var references = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => StoreAsync(bytes))));

        Assert.Single(references.Distinct());
        Assert.Single(Directory.GetFiles(Path.Combine(root, "objects"), "*", SearchOption.AllDirectories));
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task A_write_disposed_without_commit_leaves_nothing_behind()
    {
        await using (var write = store.BeginWrite())
        {
            await write.Content.WriteAsync(Bytes(10_000, 3));
            Assert.Single(TempFiles());
        }

        Assert.Empty(TempFiles());
        Assert.Empty(Directory.GetFiles(Path.Combine(root, "objects"), "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("")]
    [InlineData("../../etc/passwd")]
    [InlineData("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")] // upper case is not an address
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")] // 63 digits
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // well formed, never stored
    public void Unknown_or_malformed_addresses_are_absent(string sha256)
    {
        Assert.Null(store.OpenRead(sha256));
        Assert.False(store.Exists(sha256));
        store.Delete(sha256);
    }

    [Fact]
    public async Task The_sweeper_removes_only_abandoned_temporary_files()
    {
        var old = Path.Combine(root, "tmp", "old.partial");
        var fresh = Path.Combine(root, "tmp", "fresh.partial");
        await File.WriteAllTextAsync(old, "x");
        await File.WriteAllTextAsync(fresh, "y");
        File.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-2));
        var kept = await StoreAsync(Bytes(100, 4));

        Assert.Equal(1, store.SweepAbandonedWrites(TimeSpan.FromHours(1)));
        Assert.False(File.Exists(old));
        Assert.True(File.Exists(fresh));
        Assert.True(store.Exists(kept.Sha256));
    }

    [Fact]
    public async Task Writing_a_large_blob_allocates_nothing_proportional_to_its_size()
    {
        var chunk = Bytes(64 * 1024, 5);
        await StoreAsync(chunk); // warm up the code paths
        long allocated;
        await using (var write = store.BeginWrite())
        {
            // Counted on this thread around the synchronous writes only: after an await the test may go
            // on on another thread, whose counter says nothing about this write.
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1024; i++)
            {
                write.Content.Write(chunk); // 64 MiB in all
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            await write.CommitAsync(CancellationToken.None);
        }

        Assert.True(allocated < 2 * 1024 * 1024, $"a 64 MiB write allocated {allocated} bytes, more than 2 MiB");
    }

    private static async Task<string> Tool(string name, string file)
    {
        using var process = Process.Start(new ProcessStartInfo(name, file) { RedirectStandardOutput = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Split(' ')[0];
    }
}
