using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using EventSourced.Application.Blobs;

namespace EventSourced.Web.Infrastructure.Blobs;

/// <summary>
/// A bucket on an S3-compatible service as a content-addressed blob store: object key <c>{prefix}{sha256}</c>.
/// A write streams into a staging store on the local medium (hashing on the way, never buffered in
/// memory), and its commit uploads the staged file and removes it: the object
/// exists, complete, before the commit returns (S3 writes are atomic per object; one PUT, so up to 5 GiB). Committing bytes that
/// are already stored uploads them again, which refreshes the object's modification time for the orphan
/// sweeper's grace period. Reads download to a self-deleting temporary file so callers get a seekable
/// stream, as from the local medium. <see cref="IBlobStore"/> is synchronous in its reads and listings:
/// those wait on the SDK's asynchronous calls. Service failures surface as <see cref="IOException"/>.
/// </summary>
public sealed class S3BlobStore : IBlobStore, IDisposable
{
    private readonly IAmazonS3 client;
    private readonly string bucket;
    private readonly string prefix;
    private readonly LocalDiskBlobStore staging;
    private readonly string downloads;

    public S3BlobStore(BucketOptions options, string name, string stagingRoot)
    {
        var config = new AmazonS3Config
        {
            ServiceURL = options.ServiceUrl,
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            // Only what the request needs: S3-compatible services do not all know the SDK's newer checksum headers.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        client = new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
        bucket = string.IsNullOrEmpty(options.BucketName) ? name : options.BucketName;
        prefix = options.KeyPrefix;
        staging = new LocalDiskBlobStore(stagingRoot);
        downloads = Path.Combine(stagingRoot, "downloads");
        Directory.CreateDirectory(downloads);
    }

    /// <summary>Whether the bucket exists on its service and answers.</summary>
    public async Task<bool> IsAvailableAsync(CancellationToken cancellation)
    {
        try
        {
            // A listing of a prefix no blob has ('~' is not a hex digit): answered by every S3-compatible
            // service, refused (404 NoSuchBucket, 403) exactly when the bucket cannot be used with these
            // credentials, and never truncated (s3rver fails a truncated one-key listing).
            await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix + "~", MaxKeys = 1 }, cancellation);
            return true;
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException or TaskCanceledException)
        {
            return false;
        }
    }

    public IBlobWrite BeginWrite() => new Write(this, staging.BeginWrite());

    public Stream? OpenRead(string sha256)
    {
        if (!IsHash(sha256))
        {
            return null;
        }

        return Call(async () =>
        {
            var path = Path.Combine(downloads, $"{Guid.CreateVersion7():N}.download");
            try
            {
                using var response = await client.GetObjectAsync(bucket, prefix + sha256);
                await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
                {
                    await response.ResponseStream.CopyToAsync(file);
                }

                return (Stream?)new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024,
                    FileOptions.Asynchronous | FileOptions.SequentialScan | FileOptions.DeleteOnClose);
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                File.Delete(path);
                return null;
            }
            catch
            {
                File.Delete(path);
                throw;
            }
        });
    }

    public bool Exists(string sha256) => IsHash(sha256) && ModifiedAt(sha256) is not null;

    public void Delete(string sha256)
    {
        if (IsHash(sha256))
        {
            Call(async () => await client.DeleteObjectAsync(bucket, prefix + sha256));
        }
    }

    public IEnumerable<(string Sha256, DateTimeOffset ModifiedAt)> ListCommitted()
    {
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
        while (true)
        {
            var page = Call(() => client.ListObjectsV2Async(request));
            foreach (var item in page.S3Objects ?? [])
            {
                var name = item.Key[prefix.Length..];
                if (IsHash(name))
                {
                    yield return (name, new DateTimeOffset(DateTime.SpecifyKind(item.LastModified ?? DateTime.UtcNow, DateTimeKind.Utc).ToUniversalTime(), TimeSpan.Zero));
                }
            }

            if (page.IsTruncated != true)
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    /// <summary>
    /// S3 has no conditional delete every compatible service honours: the time is checked, then the object
    /// deleted. A commit of the same bytes in between is lost with it; the window is one round trip, and the
    /// sweeper's grace period (hours) makes a commit of an orphan's exact bytes in it unlikely.
    /// </summary>
    public bool DeleteIfNotModifiedSince(string sha256, DateTimeOffset notModifiedSince)
    {
        if (!IsHash(sha256) || ModifiedAt(sha256) is not { } modified || modified >= notModifiedSince)
        {
            return false;
        }

        Delete(sha256);
        return true;
    }

    /// <summary>Staged files of writes that never committed, or whose upload a crash interrupted.</summary>
    public int SweepAbandonedWrites(TimeSpan olderThan)
    {
        var removed = staging.SweepAbandonedWrites(olderThan);
        var cutoff = DateTimeOffset.UtcNow - olderThan;
        foreach (var (sha, modified) in staging.ListCommitted().ToList())
        {
            if (modified < cutoff && staging.DeleteIfNotModifiedSince(sha, cutoff))
            {
                removed++;
            }
        }

        foreach (var file in Directory.EnumerateFiles(downloads, "*.download"))
        {
            if (File.GetLastWriteTimeUtc(file) < cutoff.UtcDateTime)
            {
                File.Delete(file);
                removed++;
            }
        }

        return removed;
    }

    public void Dispose() => client.Dispose();

    private DateTimeOffset? ModifiedAt(string sha256) => Call(async () =>
    {
        try
        {
            var metadata = await client.GetObjectMetadataAsync(bucket, prefix + sha256);
            return metadata.LastModified is { } at ? new DateTimeOffset(at.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.MinValue;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return (DateTimeOffset?)null;
        }
    });

    private static bool IsHash(string sha256) =>
        sha256.Length == 64 && sha256.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>Waits on the SDK (the interface is synchronous here) and turns a service failure into an <see cref="IOException"/>.</summary>
    private static T Call<T>(Func<Task<T>> call)
    {
        try
        {
            return Task.Run(call).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException)
        {
            throw new IOException($"S3 request failed: {e.Message}", e);
        }
    }

    private async Task UploadAsync(string sha256, CancellationToken cancellation)
    {
        var opened = staging.OpenRead(sha256);
        if (opened is null && Exists(sha256))
        {
            return; // a concurrent write of the same bytes uploaded them and removed the staged file
        }

        await using (var staged = opened ?? throw new IOException($"Staged blob {sha256} vanished before its upload."))
        {
            try
            {
                // One PUT (objects up to 5 GiB), signed over the whole payload: the chunked (aws-chunked)
                // signing the SDK would otherwise use is stored verbatim by some S3-compatible servers.
                await client.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = bucket,
                    Key = prefix + sha256,
                    InputStream = staged,
                    AutoCloseStream = false,
                    UseChunkEncoding = false,
                }, cancellation);
            }
            catch (Exception e) when (e is AmazonServiceException or HttpRequestException)
            {
                throw new IOException($"Upload of blob {sha256} to bucket {bucket} failed: {e.Message}", e);
            }
        }

        staging.Delete(sha256);
    }

    private sealed class Write(S3BlobStore store, IBlobWrite staged) : IBlobWrite
    {
        public Stream Content => staged.Content;

        public Task<Stream> OpenWrittenAsync(CancellationToken cancellation) => staged.OpenWrittenAsync(cancellation);

        public async Task<BlobReference> CommitAsync(CancellationToken cancellation)
        {
            var blob = await staged.CommitAsync(cancellation);
            await store.UploadAsync(blob.Sha256, cancellation);
            return blob;
        }

        public ValueTask DisposeAsync() => staged.DisposeAsync();
    }
}
