using System.Buffers;
using System.Text.Json;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// A JSON answer, written by the caller onto a writer over a buffer rented from the shared array pool, sent with its
/// Content-Length: the bytes the writer wrote, without a fresh array per answer. A search answer of a hundred series is over 100 KB, so each such array went to the
/// large-object heap, which only a full collection frees (docs/architecture.md, "Start-up footprint").
/// </summary>
public sealed class PooledJsonResult(Action<Utf8JsonWriter> write, string contentType) : IResult
{
    public async Task ExecuteAsync(HttpContext context)
    {
        using var buffer = new RentedBuffer();
        using (var writer = new Utf8JsonWriter(buffer, Dicom.DicomJsonWriter.WriterOptions))
        {
            write(writer);
        }

        context.Response.ContentType = contentType;
        context.Response.ContentLength = buffer.Written.Length;
        await context.Response.Body.WriteAsync(buffer.Written, context.RequestAborted);
    }

    /// <summary>A growing buffer over arrays rented from <see cref="ArrayPool{T}.Shared"/>, returned on dispose.</summary>
    private sealed class RentedBuffer : IBufferWriter<byte>, IDisposable
    {
        private byte[] array = ArrayPool<byte>.Shared.Rent(16 * 1024);
        private int count;

        public ReadOnlyMemory<byte> Written => array.AsMemory(0, count);

        public void Advance(int bytes) => count += bytes;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Reserve(sizeHint);
            return array.AsMemory(count);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Reserve(sizeHint);
            return array.AsSpan(count);
        }

        public void Dispose()
        {
            if (array.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(array);
                array = [];
            }
        }

        /// <summary>Makes room for at least <paramref name="sizeHint"/> (or one) more bytes after those written.</summary>
        private void Reserve(int sizeHint)
        {
            var needed = count + Math.Max(sizeHint, 1);
            if (needed > array.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, array.Length * 2));
                array.AsSpan(0, count).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(array);
                array = larger;
            }
        }
    }
}
