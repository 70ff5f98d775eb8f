using EventSourced.Application.Blobs;
using EventSourced.Dicom;
using EventSourced.Dicom.Imaging;

namespace EventSourced.Application.Retrieval;

/// <summary>The encoding of a rendered image.</summary>
public enum RenderedFormat
{
    Jpeg,

    /// <summary>Lossless; never a pass-through, so compressed pixel data (which we do not decode) cannot be had as PNG.</summary>
    Png,
}

/// <summary>What to render: a frame, a window, a size, a JPEG quality, the encoding.</summary>
public sealed record RenderRequest(int Frame = 0, VoiWindow? Window = null, int? MaxWidth = null, int? MaxHeight = null, int Quality = 90, RenderedFormat Format = RenderedFormat.Jpeg);

/// <summary>
/// Renders a stored instance to JPEG or PNG (WADO-RS /rendered and /thumbnail, the vendor previews). The header
/// is read from the blob in streaming mode and only the requested frame's bytes are read, at their
/// offset: memory is bounded by one frame, not by the instance. A JPEG Baseline frame is passed through
/// unchanged when no resizing is asked (it is already what the client asked for).
/// </summary>
public sealed class InstanceRenderer(IBlobStore blobs)
{
    /// <summary>Instances larger than this are not loaded whole for JPEG pass-through.</summary>
    private const long MaxPassThroughBytes = 256L * 1024 * 1024;

    public async Task RenderAsync(string sha256, string transferSyntaxUid, RenderRequest request, Stream output, CancellationToken cancellation)
    {
        await using var blob = blobs.OpenRead(sha256) ?? throw new FileNotFoundException($"Blob {sha256} is missing.");
        var jpeg = new JpegEncoderOptions { Quality = Math.Clamp(request.Quality, 1, 100) };
        if (JpegPassThrough.IsJpegBaseline(transferSyntaxUid))
        {
            if (blob.Length > MaxPassThroughBytes)
            {
                throw new DicomRenderException(DicomRenderError.UnsupportedTransferSyntax, "the JPEG instance is too large to pass through");
            }

            var buffer = new byte[blob.Length];
            await blob.ReadExactlyAsync(buffer, cancellation);
            var file = DicomReader.Read(buffer);
            if (request.Format == RenderedFormat.Jpeg && request.MaxWidth is null && request.MaxHeight is null && request.Window is null)
            {
                await output.WriteAsync(JpegPassThrough.GetFrame(file, request.Frame), cancellation);
                return;
            }

            throw new DicomRenderException(DicomRenderError.UnsupportedTransferSyntax,
                "compressed pixel data is not decoded: a JPEG Baseline frame is served only as stored (image/jpeg, no window, no resizing)");
        }

        var header = DicomReader.Read(blob, DicomReadOptions.Streaming);
        if (header.TransferSyntax.Deflated)
        {
            // Offsets of a deflated data set are positions in the inflated stream: read it whole (bounded).
            if (blob.Length > MaxPassThroughBytes)
            {
                throw new DicomRenderException(DicomRenderError.UnsupportedTransferSyntax, "the deflated instance is too large to render");
            }

            blob.Seek(0, SeekOrigin.Begin);
            var bytes = new byte[blob.Length];
            await blob.ReadExactlyAsync(bytes, cancellation);
            header = DicomReader.Read(bytes);
        }

        var pixelData = header.Dataset.Find(DicomTag.PixelData)
            ?? throw new DicomRenderException(DicomRenderError.NoPixelData, "no Pixel Data (7FE0,0010)");
        if (pixelData.Fragments is not null)
        {
            throw new DicomRenderException(DicomRenderError.UnsupportedTransferSyntax, $"compressed pixel data ({transferSyntaxUid}) is not decoded");
        }

        var options = new RenderOptions
        {
            Frame = request.Frame,
            Window = request.Window,
            MaxWidth = request.MaxWidth,
            MaxHeight = request.MaxHeight,
            SourceBigEndian = header.TransferSyntax.BigEndian,
        };
        RenderedImage image;
        if (pixelData.BulkData is { } reference)
        {
            var info = DicomImageInfo.FromDataset(header.Dataset);
            blob.Seek(reference.Offset + info.FrameOffset(request.Frame), SeekOrigin.Begin); // FrameOffset checks the frame exists
            image = DicomRenderer.RenderFrame(header.Dataset, blob, options);
        }
        else
        {
            image = DicomRenderer.Render(header.Dataset, options);
        }

        // The renderer already fitted it inside MaxWidth × MaxHeight.
        if (request.Format == RenderedFormat.Png)
        {
            image.EncodePng(output);
        }
        else
        {
            image.EncodeJpeg(output, jpeg);
        }
    }
}
