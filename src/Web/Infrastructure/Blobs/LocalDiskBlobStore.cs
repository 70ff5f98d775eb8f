using System.Runtime.InteropServices;
using System.Security.Cryptography;
using EventSourced.Application.Blobs;

namespace EventSourced.Web.Infrastructure.Blobs;

/// <summary>Configuration section <c>Blobs</c>.</summary>
public sealed class BlobStoreOptions
{
    public const string Section = "Blobs";

    /// <summary>Root folder of the local disk store; relative paths are under the content root.</summary>
    public string Root { get; set; } = "../../.data/blobs";

    /// <summary>How often abandoned temporary files are looked for.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A temporary file untouched this long belongs to a write that will never commit.</summary>
    public TimeSpan AbandonedWriteAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often committed blobs that no event references are looked for; zero or less turns the orphan sweep off.</summary>
    public TimeSpan OrphanSweepInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A committed blob is an orphan only when no event references it and it was last committed longer ago
    /// than this. It must exceed the longest time between a blob's commit and its event's append: a STOW
    /// request holds up to 64 committed parts until it records them, so the slowest plausible upload of
    /// 64 parts bounds it (docs/architecture.md, "Orphan blobs").
    /// </summary>
    public TimeSpan OrphanGracePeriod { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>
/// Local disk blob store: <c>{root}/objects/{sha[0..2]}/{sha[2..4]}/{sha}</c>, written through
/// <c>{root}/tmp</c>. Commit = flush + fsync of the file, rename (atomic within one file system, never
/// over an existing blob), fsync of the directory so the rename itself survives a power cut. Committing
/// bytes that are already stored refreshes the stored blob's modification time instead (the orphan
/// sweeper's grace period is measured from it).
/// </summary>
public sealed class LocalDiskBlobStore : IBlobStore
{
    private readonly string objects;
    private readonly string temp;

    public LocalDiskBlobStore(string root)
    {
        objects = Path.Combine(root, "objects");
        temp = Path.Combine(root, "tmp");
        Directory.CreateDirectory(objects);
        Directory.CreateDirectory(temp);
    }

    public IBlobWrite BeginWrite() => new Write(this, Path.Combine(temp, $"{Guid.CreateVersion7():N}.partial"));

    public Stream? OpenRead(string sha256)
    {
        var path = PathFor(sha256);
        return path is not null && File.Exists(path)
            ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan)
            : null;
    }

    public bool Exists(string sha256) => PathFor(sha256) is { } path && File.Exists(path);

    public void Delete(string sha256)
    {
        if (PathFor(sha256) is { } path && File.Exists(path))
        {
            File.Delete(path);
        }
    }

    public IEnumerable<(string Sha256, DateTimeOffset ModifiedAt)> ListCommitted()
    {
        foreach (var file in Directory.EnumerateFiles(objects, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            if (PathFor(name) == file)
            {
                yield return (name, new DateTimeOffset(File.GetLastWriteTimeUtc(file), TimeSpan.Zero));
            }
        }
    }

    public bool DeleteIfNotModifiedSince(string sha256, DateTimeOffset notModifiedSince)
    {
        if (PathFor(sha256) is not { } path)
        {
            return false;
        }

        // Moved aside first, then its time checked again: a commit of the same bytes either refreshed the
        // time before the move (the blob is put back) or finds no blob after it (and renames its own copy in).
        var aside = Path.Combine(temp, $"{sha256}.{Guid.CreateVersion7():N}.sweeping");
        try
        {
            File.Move(path, aside, overwrite: false);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }

        if (File.GetLastWriteTimeUtc(aside) >= notModifiedSince.UtcDateTime)
        {
            try
            {
                File.Move(aside, path, overwrite: false);
                FsyncDirectory(Path.GetDirectoryName(path)!);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(aside); // the concurrent commit's copy is in place
            }

            return false;
        }

        File.Delete(aside);
        return true;
    }

    public int SweepAbandonedWrites(TimeSpan olderThan)
    {
        var removed = 0;
        var cutoff = DateTime.UtcNow - olderThan;
        foreach (var file in Directory.EnumerateFiles(temp, "*.partial").Concat(Directory.EnumerateFiles(temp, "*.sweeping")))
        {
            if (File.GetLastWriteTimeUtc(file) < cutoff)
            {
                try
                {
                    File.Delete(file);
                    removed++;
                }
                catch (IOException)
                {
                    // Still being written by a slow client: its own dispose removes it.
                }
            }
        }

        return removed;
    }

    /// <summary>Null for anything that is not 64 lower-case hex digits: a hash from a URL can never escape the store's folder.</summary>
    private string? PathFor(string sha256) =>
        sha256.Length == 64 && sha256.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f')
            ? Path.Combine(objects, sha256[..2], sha256[2..4], sha256)
            : null;

    private static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return; // NTFS journals renames; there is no directory fsync to call.
        }

        var fd = Native.open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open {directory} to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Native.fsync(fd) != 0)
            {
                throw new IOException($"fsync of {directory} failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }

    private sealed class Write(LocalDiskBlobStore store, string tempPath) : IBlobWrite
    {
        private readonly HashingStream content = new(new FileStream(
            tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.Asynchronous));

        private bool committed;

        public Stream Content => content;

        public async Task<Stream> OpenWrittenAsync(CancellationToken cancellation)
        {
            await content.FlushAsync(cancellation);
            return new FileStream(tempPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);
        }

        public async Task<BlobReference> CommitAsync(CancellationToken cancellation)
        {
            if (committed)
            {
                throw new InvalidOperationException("This write is already committed.");
            }

            var (sha256, sha1, length) = await content.CompleteAsync(cancellation);

            // fsync, rename and directory fsync block their thread for a disk round trip each; queued as one
            // work item, so a caller that does not await the commit at once (STOW) goes on reading its next
            // part, the commits of several parts overlap, and the file system folds their journal flushes
            // together (group commit). A dedicated thread per commit measured costlier (docs/benchmarks.md).
            await Task.Run(() => MakeDurable(sha256), cancellation);
            committed = true;
            return new BlobReference(sha256, sha1, length);
        }

        private void MakeDurable(string sha256)
        {
            content.FsyncAndClose();
            var final = store.PathFor(sha256)!;
            var directory = Path.GetDirectoryName(final)!;
            EnsureDirectory(directory);
            if (TryRefresh(final))
            {
                File.Delete(tempPath); // same bytes are already stored
                return;
            }

            try
            {
                File.Move(tempPath, final, overwrite: false);
            }
            catch (IOException) when (File.Exists(final))
            {
                File.Delete(tempPath); // a concurrent write of the same bytes won the rename
            }

            FsyncDirectory(directory);
        }

        /// <summary>
        /// The blob is already stored: its modification time is set to now, so the orphan sweeper's grace
        /// period starts again for the event this write is about to append. False when there is no such
        /// blob (or the sweeper removed it a moment ago): the caller then renames its own copy into place.
        /// </summary>
        private static bool TryRefresh(string final)
        {
            try
            {
                File.SetLastWriteTimeUtc(final, DateTime.UtcNow);
                return true;
            }
            catch (FileNotFoundException)
            {
                return false;
            }
            catch (DirectoryNotFoundException)
            {
                return false;
            }
        }

        /// <summary>Creates the two fan-out folders when missing, and fsyncs each parent so the new entries survive a power cut too.</summary>
        private void EnsureDirectory(string directory)
        {
            if (Directory.Exists(directory))
            {
                return;
            }

            var parent = Path.GetDirectoryName(directory)!;
            var parentExisted = Directory.Exists(parent);
            Directory.CreateDirectory(directory);
            if (!parentExisted)
            {
                FsyncDirectory(store.objects);
            }

            FsyncDirectory(parent);
        }

        public async ValueTask DisposeAsync()
        {
            await content.DisposeAsync();
            if (!committed)
            {
                File.Delete(tempPath);
            }
        }
    }

    /// <summary>Write-only pass-through to the file that feeds both hashes; completing it flushes and fsyncs the file.</summary>
    private sealed class HashingStream(FileStream file) : Stream
    {
        private readonly IncrementalHash sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly IncrementalHash sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        private long length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => length;

        public override long Position
        {
            get => length;
            set => throw new NotSupportedException();
        }

        /// <summary>Writes what is buffered to the file (not yet to disk) and returns both hashes.</summary>
        public async Task<(string Sha256, string Sha1, long Length)> CompleteAsync(CancellationToken cancellation)
        {
            await file.FlushAsync(cancellation);
            return (Convert.ToHexStringLower(sha256.GetHashAndReset()), Convert.ToHexStringLower(sha1.GetHashAndReset()), length);
        }

        /// <summary>Blocking: fsync of the file's data, then close.</summary>
        public void FsyncAndClose()
        {
            file.Flush(flushToDisk: true);
            file.Dispose();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            sha256.AppendData(buffer);
            sha1.AppendData(buffer);
            length += buffer.Length;
            file.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            sha256.AppendData(buffer.Span);
            sha1.AppendData(buffer.Span);
            length += buffer.Length;
            return file.WriteAsync(buffer, cancellationToken);
        }

        public override void Flush() => file.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => file.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                file.Dispose();
                sha256.Dispose();
                sha1.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await file.DisposeAsync();
            sha256.Dispose();
            sha1.Dispose();
            await base.DisposeAsync();
        }
    }
}
