using System.Diagnostics;
using EventSourced.Application.Blobs;
using EventSourced.Web.Infrastructure.Blobs;

namespace EventSourced.Web.Tests.Blobs;

/// <summary>The local disk store on real files, its group commits made durable file by file (each file and folder fsynced).</summary>
public class LocalDiskBlobStoreTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "eventsourced-blob-tests", Guid.NewGuid().ToString("N"));
    private readonly LocalDiskBlobStore store;

    public LocalDiskBlobStoreTests()
        : this(BlobGroupSync.Files)
    {
    }

    protected LocalDiskBlobStoreTests(BlobGroupSync groupSync) => store = new LocalDiskBlobStore(root, groupSync);

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

    private async Task<IBlobWrite> WrittenAsync(byte[] bytes)
    {
        var write = store.BeginWrite();
        await write.Content.WriteAsync(bytes);
        return write;
    }

    private string ObjectPath(string sha256) => Path.Combine(root, "objects", sha256[..2], sha256[2..4], sha256);

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    [Fact]
    public async Task A_group_commit_stores_each_blob_under_its_address_once_and_refreshes_bytes_already_stored()
    {
        var (first, second, stored) = (Bytes(20_000, 11), Bytes(30_000, 12), Bytes(40_000, 13));
        var earlier = await StoreAsync(stored);
        File.SetLastWriteTimeUtc(ObjectPath(earlier.Sha256), DateTime.UtcNow.AddDays(-3));

        // The same bytes twice in one group, and bytes an earlier commit stored: one blob each.
        var writes = new[] { await WrittenAsync(first), await WrittenAsync(second), await WrittenAsync(first), await WrittenAsync(stored) };
        var outcomes = await store.CommitAllAsync(writes, CancellationToken.None);
        foreach (var write in writes)
        {
            await write.DisposeAsync();
        }

        Assert.All(outcomes, outcome => Assert.Null(outcome.Failure));
        Assert.Equal([Sha256(first), Sha256(second), Sha256(first), Sha256(stored)], outcomes.Select(o => o.Blob!.Sha256));
        Assert.Equal([first.Length, second.Length, first.Length, stored.Length], outcomes.Select(o => o.Blob!.Length));
        foreach (var bytes in new[] { first, second, stored })
        {
            Assert.Equal(bytes, await File.ReadAllBytesAsync(ObjectPath(Sha256(bytes))));
        }

        Assert.Equal(3, Directory.GetFiles(Path.Combine(root, "objects"), "*", SearchOption.AllDirectories).Length);
        Assert.True(File.GetLastWriteTimeUtc(ObjectPath(earlier.Sha256)) > DateTime.UtcNow.AddMinutes(-5), "the stored blob's grace period starts again");
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task A_blob_whose_folder_cannot_be_made_fails_alone_and_names_nothing()
    {
        var (blocked, fine) = (Bytes(10_000, 21), Bytes(10_000, 22));
        var sha = Sha256(blocked);
        Assert.NotEqual(sha[..2], Sha256(fine)[..2]);
        await File.WriteAllTextAsync(Path.Combine(root, "objects", sha[..2]), "a file where the fan-out folder goes");

        var writes = new[] { await WrittenAsync(blocked), await WrittenAsync(fine) };
        var outcomes = await store.CommitAllAsync(writes, CancellationToken.None);
        foreach (var write in writes)
        {
            await write.DisposeAsync();
        }

        Assert.IsAssignableFrom<IOException>(outcomes[0].Failure);
        Assert.Null(outcomes[0].Blob);
        Assert.False(store.Exists(sha));
        Assert.Equal(Sha256(fine), outcomes[1].Blob!.Sha256);
        Assert.Equal(fine, await File.ReadAllBytesAsync(ObjectPath(Sha256(fine))));
        Assert.Empty(TempFiles()); // the failed write's temporary file went with its dispose

        // Once the obstacle is gone the same bytes commit.
        File.Delete(Path.Combine(root, "objects", sha[..2]));
        Assert.Equal(sha, (await StoreAsync(blocked)).Sha256);
        Assert.Equal(blocked, await File.ReadAllBytesAsync(ObjectPath(sha)));
    }

    [Fact]
    public async Task A_fan_out_folder_removed_behind_the_store_is_made_again()
    {
        var bytes = Bytes(5_000, 31);
        var sha = (await StoreAsync(bytes)).Sha256;
        Directory.Delete(Path.Combine(root, "objects", sha[..2]), recursive: true);

        Assert.Equal(sha, (await StoreAsync(bytes)).Sha256);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(ObjectPath(sha)));
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

/// <summary>The same, its group commits made durable by <c>syncfs(2)</c> (the service's default on Linux).</summary>
public sealed class LocalDiskBlobStoreFileSystemSyncTests() : LocalDiskBlobStoreTests(BlobGroupSync.FileSystem);
