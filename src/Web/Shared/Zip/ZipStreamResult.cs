using System.IO.Compression;
using EventSourced.Application.Blobs;

namespace EventSourced.Web.Shared.Zip;

/// <summary>
/// One file of a streamed zip: a stored blob (<paramref name="Sha256"/>), bytes made for the answer
/// (<paramref name="Content"/>), or a stream opened when the entry is written (<paramref name="Open"/>, e.g. an
/// entry of a stored zip).
/// </summary>
/// <param name="What">Names the file's owner in the error when its blob is missing.</param>
public sealed record ZipEntrySource(string Name, DateTimeOffset? LastWriteTime, string? Sha256, byte[]? Content = null, string What = "", Func<CancellationToken, Task<Stream>>? Open = null)
{
    public static ZipEntrySource Blob(string name, string sha256, DateTimeOffset lastWriteTime, string what) => new(name, lastWriteTime, sha256, null, what);

    public static ZipEntrySource Bytes(string name, byte[] content) => new(name, null, null, content);

    public static ZipEntrySource Opened(string name, DateTimeOffset lastWriteTime, Func<CancellationToken, Task<Stream>> open) => new(name, lastWriteTime, null, null, "", open);
}

/// <summary>
/// A zip written straight to the response body: <see cref="ZipArchive"/> in Create mode on the
/// (unseekable) body writes each entry's local header, then the file's bytes as they are read from the
/// blob store (80 KiB at a time), then a data descriptor, and the central directory at the end. Nothing
/// is buffered beyond the copy buffer and the zip's own records (a few dozen bytes per entry), whatever
/// the files' size. Entries are stored, not deflated.
/// </summary>
public sealed class ZipStreamResult(IReadOnlyList<ZipEntrySource> entries, IBlobStore blobs, string fileName) : IResult
{
    public async Task ExecuteAsync(HttpContext context)
    {
        context.Response.ContentType = "application/zip";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        await WriteAsync(context.Response.Body, entries, blobs, context.RequestAborted);
    }

    /// <summary>Writes the zip of <paramref name="entries"/> to <paramref name="target"/> (a response body, a request's content); the bytes written.</summary>
    public static async Task<long> WriteAsync(Stream target, IReadOnlyList<ZipEntrySource> entries, IBlobStore blobs, CancellationToken cancellation)
    {
        var body = new AsyncOnlyStream(target);
        await using (var zip = await ZipArchive.CreateAsync(body, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, cancellation))
        {
            foreach (var source in entries)
            {
                var entry = zip.CreateEntry(source.Name, CompressionLevel.NoCompression);
                if (source.LastWriteTime is { } time)
                {
                    entry.LastWriteTime = time;
                }

                if (source.Content is { } bytes)
                {
                    await using var content = await entry.OpenAsync(cancellation);
                    await content.WriteAsync(bytes, cancellation);
                }
                else if (source.Open is { } open)
                {
                    await using var opened = await open(cancellation);
                    await using var content = await entry.OpenAsync(cancellation);
                    await opened.CopyToAsync(content, 81920, cancellation);
                }
                else
                {
                    await using var blob = blobs.OpenRead(source.Sha256!)
                        ?? throw new InvalidOperationException($"Blob {source.Sha256} of {source.What} is missing.");
                    await using var content = await entry.OpenAsync(cancellation);
                    await blob.CopyToAsync(content, 81920, cancellation);
                }

                await body.FlushPendingAsync(cancellation);
            }
        }

        await body.FlushPendingAsync(cancellation);
        return body.Written;
    }
}

/// <summary>
/// The response body allows only asynchronous writes; <see cref="ZipArchive"/> still writes its small
/// records (an entry's data descriptor when its stream is disposed) synchronously. Those few bytes are
/// held here and go out before the next asynchronous write; file content always passes straight through.
/// </summary>
internal sealed class AsyncOnlyStream(Stream inner) : Stream
{
    private readonly MemoryStream pending = new();

    /// <summary>The bytes passed on to the inner stream.</summary>
    public long Written { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => pending.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => pending.Write(buffer);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await FlushPendingAsync(cancellationToken);
        await inner.WriteAsync(buffer, cancellationToken);
        Written += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public async Task FlushPendingAsync(CancellationToken cancellation)
    {
        if (pending.Length > 0)
        {
            await inner.WriteAsync(pending.GetBuffer().AsMemory(0, (int)pending.Length), cancellation);
            Written += pending.Length;
            pending.SetLength(0);
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await FlushPendingAsync(cancellationToken);
        await inner.FlushAsync(cancellationToken);
    }

    // A synchronous flush has nothing to do that may not wait for the next asynchronous write.
    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
