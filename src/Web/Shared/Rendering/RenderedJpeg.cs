using EventSourced.Application.Retrieval;
using EventSourced.Dicom;
using EventSourced.Dicom.Imaging;
using EventSourced.Projections.Studies;
using EventSourced.Web.Infrastructure;

namespace EventSourced.Web.Shared.Rendering;

/// <summary>
/// An instance rendered as image/jpeg (or image/png when the request says so), for every dialect that shows one: WADO-RS rendered and thumbnail
/// resources, document c's exam retrieval as JPEG, document e's preview.
/// </summary>
public static class RenderedJpeg
{
    /// <summary>The thumbnail's size when the client gives no viewport.</summary>
    public const int ThumbnailSize = 128;

    /// <summary>The request for a thumbnail of the first frame.</summary>
    public static RenderRequest Thumbnail { get; } = new(MaxWidth: ThumbnailSize, MaxHeight: ThumbnailSize);

    /// <summary>Renders into memory first, so an unsupported instance still gets a clean problem response.</summary>
    public static async Task<IResult> RenderAsync(InstanceRenderer renderer, InstanceLocation location, RenderRequest request, CancellationToken cancellation)
    {
        var jpeg = new MemoryStream();
        try
        {
            await renderer.RenderAsync(location.Sha256, location.TransferSyntaxUid, request, jpeg, cancellation);
        }
        catch (DicomRenderException e) when (e.IsUnsupported)
        {
            return Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable", $"This instance cannot be rendered: {e.Message}");
        }
        catch (DicomRenderException e) when (e.Error == DicomRenderError.FrameOutOfRange)
        {
            return Problems.NotFound(e.Message);
        }
        catch (Exception e) when (e is DicomRenderException or DicomFormatException)
        {
            return Problems.Create(StatusCodes.Status422UnprocessableEntity, "Unprocessable Entity", $"The stored instance's pixel data cannot be rendered: {e.Message}");
        }

        return TypedResults.Bytes(jpeg.ToArray(), request.Format == RenderedFormat.Png ? "image/png" : "image/jpeg");
    }
}
