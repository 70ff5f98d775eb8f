using System.Collections.Concurrent;
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

    /// <summary>
    /// How a group commit (a STOW request's parts) is made durable on the local disk: <see cref="BlobGroupSync.FileSystem"/>
    /// (Linux: one <c>syncfs(2)</c> before the renames and one after, for the whole group) or
    /// <see cref="BlobGroupSync.Files"/> (each file fsynced, then each changed folder).
    /// </summary>
    public BlobGroupSync GroupSync { get; set; } = BlobGroupSync.FileSystem;

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

/// <summary>How a local disk store makes a group commit durable (docs/architecture.md, "Blob durability per request").</summary>
public enum BlobGroupSync
{
    /// <summary>
    /// Two <c>syncfs(2)</c> calls per group on Linux: every file's bytes, then every rename and new folder.
    /// The file system's other dirty data (other processes' writes on the same volume) is flushed with
    /// it; a write-back error anywhere on the volume since the group's first file was opened fails the
    /// group. Elsewhere the same as <see cref="Files"/>.
    /// </summary>
    FileSystem,

    /// <summary>Each file fsynced, then each folder whose entries changed, once per group.</summary>
    Files,
}

/// <summary>
/// Local disk blob store: <c>{root}/objects/{sha[0..2]}/{sha[2..4]}/{sha}</c>, written through
/// <c>{root}/tmp</c>. Commit = flush + fsync of the file, rename (atomic within one file system, never
/// over an existing blob), fsync of the directory so the rename itself survives a power cut. Committing
/// bytes that are already stored refreshes the stored blob's modification time instead (the orphan
/// sweeper's grace period is measured from it). A group commit (<see cref="CommitAllAsync"/>, which a
/// single commit is a group of one of) runs as one work item: every file's bytes made durable first,
/// then every rename, then the names made durable (<see cref="BlobGroupSync"/>: two <c>syncfs</c> calls
/// for the group, or each file and each changed folder fsynced once); a fan-out folder is known to exist
/// (and its entry to be durable) after the first commit into it, so later commits neither look for it
/// nor fsync its parent.
/// </summary>
public sealed class LocalDiskBlobStore : IBlobStore
{
    private readonly string objects;
    private readonly string temp;

    /// <summary>Fan-out folders that exist with their entries durable in their parents (one of this process's commits fsynced the parent).</summary>
    private readonly ConcurrentDictionary<string, byte> durableDirectories = new(StringComparer.Ordinal);

    private readonly bool syncFileSystem;

    public LocalDiskBlobStore(string root, BlobGroupSync groupSync = BlobGroupSync.Files)
    {
        syncFileSystem = groupSync == BlobGroupSync.FileSystem && OperatingSystem.IsLinux();
        objects = Path.Combine(root, "objects");
        temp = Path.Combine(root, "tmp");
        Directory.CreateDirectory(objects);
        Directory.CreateDirectory(temp);
    }

    public IBlobWrite BeginWrite() => new Write(this, Path.Combine(temp, $"{Guid.CreateVersion7():N}.partial"));

    public async Task<IReadOnlyList<BlobCommit>> CommitAllAsync(IReadOnlyList<IBlobWrite> writes, CancellationToken cancellation)
    {
        if (writes.Count == 0)
        {
            return [];
        }

        if (!writes.All(write => write is Write own && own.Store == this))
        {
            return await IBlobStore.CommitEachAsync(writes, cancellation);
        }

        var own = writes.Cast<Write>().ToArray();
        if (own.Any(write => write.Committed) || own.Distinct().Count() != own.Length)
        {
            throw new InvalidOperationException("A write is already committed, or given twice.");
        }

        // fsync, rename and directory fsync block their thread for a disk round trip each: the group runs
        // as one work item, so a request's parts block one thread-pool thread once, not one per part.
        return await Task.Run(() => MakeDurable(own), cancellation);
    }

    /// <summary>
    /// Every file's bytes are on disk before any of them gets its address (a name that a crash leaves
    /// behind never holds partial bytes, which a later commit of the same bytes would take as stored); then
    /// the renames; then the directories whose entries changed, each once. Only then does the caller get
    /// the references, and only then may an event name them. A write whose fsync or rename fails is
    /// reported failed, the others go on; a directory fsync that fails fails the group (thrown).
    /// </summary>
    private BlobCommit[] MakeDurable(Write[] writes)
    {
        var outcomes = new BlobCommit[writes.Length];
        try
        {
            for (var i = 0; i < writes.Length; i++)
            {
                outcomes[i] = Attempt(syncFileSystem ? writes[i].WriteOut : writes[i].FsyncAndClose);
            }

            if (syncFileSystem)
            {
                SyncFileSystem(writes, outcomes);
            }

            var changed = new HashSet<string>(StringComparer.Ordinal);
            var created = new List<string>();
            for (var i = 0; i < writes.Length; i++)
            {
                if (outcomes[i].Blob is { } blob)
                {
                    var write = writes[i];
                    outcomes[i] = Attempt(() =>
                    {
                        write.MoveIntoPlace(PathFor(blob.Sha256)!, changed, created);
                        return blob;
                    });
                }
            }

            if (syncFileSystem)
            {
                SyncFileSystem(writes, outcomes);
            }
            else
            {
                foreach (var directory in changed)
                {
                    FsyncDirectory(directory);
                }
            }

            foreach (var directory in created)
            {
                durableDirectories.TryAdd(directory, 0);
            }

            for (var i = 0; i < writes.Length; i++)
            {
                writes[i].Committed = outcomes[i].Blob is not null;
            }

            return outcomes;
        }
        finally
        {
            foreach (var write in writes)
            {
                write.Close();
            }
        }
    }

    /// <summary>
    /// One <c>syncfs(2)</c> through the descriptor of the group's first file still open (opened before the
    /// bytes of every blob the group commits were written, so a write-back error on the volume since then
    /// is reported through it; Linux 5.8 and later). Throws for the group.
    /// </summary>
    private static void SyncFileSystem(Write[] writes, BlobCommit[] outcomes)
    {
        var index = Array.FindIndex(outcomes, outcome => outcome.Blob is not null);
        if (index < 0)
        {
            return;
        }

        if (Native.syncfs(writes[index].Handle) != 0)
        {
            throw new IOException($"syncfs failed (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    private static BlobCommit Attempt(Func<BlobReference> step)
    {
        try
        {
            return new BlobCommit(step(), null);
        }
        catch (IOException e)
        {
            return new BlobCommit(null, e);
        }
    }

    /// <summary>
    /// Makes sure <paramref name="directory"/> (a leaf fan-out folder) exists; the parents whose entries a
    /// new folder changed go to <paramref name="changed"/>. A folder this process has not yet seen durable
    /// (made by an earlier run, or by a concurrent commit that has not fsynced its parent yet) has its
    /// parent fsynced once too, so a commit never returns before the folder's own entry is durable.
    /// </summary>
    private void EnsureDirectory(string directory, HashSet<string> changed, List<string> created)
    {
        if (durableDirectories.ContainsKey(directory))
        {
            return;
        }

        var parent = Path.GetDirectoryName(directory)!;
        var parentKnown = durableDirectories.ContainsKey(parent);
        Directory.CreateDirectory(directory);
        if (!parentKnown)
        {
            changed.Add(objects);
            created.Add(parent);
        }

        changed.Add(parent);
        created.Add(directory);
    }

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
    /// <summary>objects/ab/cd/abcd…: one string built (a retrieval opens a blob per request).</summary>
    private string? PathFor(string sha256) =>
        sha256.Length == 64 && !sha256.AsSpan().ContainsAnyExcept(LowerHex)
            ? Path.Join(objects.AsSpan(), sha256.AsSpan(0, 2), sha256.AsSpan(2, 2), sha256.AsSpan())
            : null;

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

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

        [DllImport("libc", SetLastError = true)]
        public static extern int syncfs(Microsoft.Win32.SafeHandles.SafeFileHandle fd);
    }

    private sealed class Write(LocalDiskBlobStore store, string tempPath) : IBlobWrite
    {
        private readonly HashingStream content = new(new FileStream(
            tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.Asynchronous));

        public Stream Content => content;

        public async Task<Stream> OpenWrittenAsync(CancellationToken cancellation)
        {
            await content.FlushAsync(cancellation);
            return new FileStream(tempPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);
        }

        public async Task<BlobReference> CommitAsync(CancellationToken cancellation)
        {
            var outcome = (await store.CommitAllAsync([this], cancellation))[0];
            return outcome.Blob ?? throw outcome.Failure!;
        }

        public LocalDiskBlobStore Store => store;

        public bool Committed { get; set; }

        /// <summary>Blocking: the rest of the buffer written to the file (not to disk: a <c>syncfs</c> follows); the hashes.</summary>
        public BlobReference WriteOut()
        {
            var (sha256, sha1, length) = content.Complete();
            content.Flush();
            return new BlobReference(sha256, sha1, length);
        }

        /// <summary>The open file's descriptor (for <c>syncfs</c>).</summary>
        public Microsoft.Win32.SafeHandles.SafeFileHandle Handle => content.Handle;

        public void Close() => content.Close();

        /// <summary>Blocking: the rest of the buffer written, the file fsynced and closed; the hashes.</summary>
        public BlobReference FsyncAndClose()
        {
            var (sha256, sha1, length) = content.Complete();
            content.FsyncAndClose();
            return new BlobReference(sha256, sha1, length);
        }

        /// <summary>
        /// Blocking: renames the fsynced file to <paramref name="final"/>, never over an existing blob. When
        /// the same bytes are already stored (an earlier commit, a concurrent one, the same bytes twice in
        /// one group) the stored blob's modification time is set to now instead, so the orphan sweeper's
        /// grace period starts again for the event about to name it. The directories whose entries changed
        /// go to <paramref name="changed"/>.
        /// </summary>
        public void MoveIntoPlace(string final, HashSet<string> changed, List<string> created)
        {
            var directory = Path.GetDirectoryName(final)!;
            store.EnsureDirectory(directory, changed, created);
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    File.Move(tempPath, final, overwrite: false);
                    changed.Add(directory);
                    return;
                }
                catch (DirectoryNotFoundException) when (attempt < 2)
                {
                    // The folder was removed behind this process's back: made again, its parent fsynced.
                    store.durableDirectories.TryRemove(directory, out _);
                    store.durableDirectories.TryRemove(Path.GetDirectoryName(directory)!, out _);
                    store.EnsureDirectory(directory, changed, created);
                }
                catch (IOException) when (attempt < 2 && File.Exists(final))
                {
                    if (TryRefresh(final))
                    {
                        // Synced again: the copy may be a concurrent group's whose folder fsync is still to come.
                        changed.Add(directory);
                        File.Delete(tempPath);
                        return;
                    }

                    // The sweeper moved the stored copy aside a moment ago: this copy goes in instead.
                }
            }
        }

        /// <summary>False when there is no such blob (the sweeper removed it a moment ago).</summary>
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

        public async ValueTask DisposeAsync()
        {
            await content.DisposeAsync();
            if (!Committed)
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

        /// <summary>Both hashes of what was written.</summary>
        public (string Sha256, string Sha1, long Length) Complete() =>
            (Convert.ToHexStringLower(sha256.GetHashAndReset()), Convert.ToHexStringLower(sha1.GetHashAndReset()), length);

        public Microsoft.Win32.SafeHandles.SafeFileHandle Handle => file.SafeFileHandle;

        /// <summary>Blocking: what is still buffered written to the file, fsync of the file's data, then close.</summary>
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
