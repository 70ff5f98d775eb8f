using Carter;
using EventSourced.Application.Blobs;
using EventSourced.Application.Retrieval;
using EventSourced.Dicom;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Studies;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using EventSourced.Web.Shared.DicomWeb;
using Marten;

namespace EventSourced.Web.DicomWeb.Wado;

/// <summary>
/// WADO-RS frames and bulk data (PS3.18 §10.4.1.1.4–5), what a browser viewer reads pixels through:
/// <c>…/instances/{i}/frames/{list}</c> (a comma list of 1-based frame numbers) and the BulkDataURIs the
/// metadata answers carry (<c>…/instances/{i}/bulkdata/{tag}[/{item}/{tag}…]</c>). Both answer
/// <c>multipart/related</c> with one part per frame or value, each part's Content-Type naming its
/// transfer syntax. Values are read at their offsets in the stored file: memory is bounded by one frame.
/// </summary>
public sealed class FramesModule : ICarterModule
{
    /// <summary>More frame numbers than this in one request is a 400 (a list is a URL path segment).</summary>
    public const int MaxFramesPerRequest = 4096;

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/dicomweb/studies/{study}/series/{series}/instances/{instance}")
            .WithTags("DICOMweb: WADO-RS").RestrictedToViewerStudy();
        group.MapGet("/frames/{frames}", (string study, string series, string instance, string frames, HttpContext context, CancellationToken cancellation) =>
            Frames(context, study, series, instance, frames, cancellation)).WithName("WadoFrames");
        group.MapGet("/bulkdata/{**path}", (string study, string series, string instance, string? path, HttpContext context, CancellationToken cancellation) =>
            BulkData(context, study, series, instance, path ?? "", cancellation)).WithName("WadoBulkData");
    }

    /// <summary>The BulkDataURI of a value of an instance: <paramref name="path"/> is tags and 1-based item numbers joined by '/'.</summary>
    public static string BulkDataUri(HttpRequest request, string study, string series, string instance, string path) =>
        $"{DicomWebMediaTypes.InstanceUrl(request, study, series, instance)}/bulkdata/{path}";

    private static async Task<IResult> Frames(HttpContext context, string study, string series, string instance, string list, CancellationToken cancellation)
    {
        if (ParseFrames(list) is not { } frames)
        {
            return Problems.BadRequest($"'{Shorten(list)}' is not a frame list: comma-separated frame numbers from 1 (at most {MaxFramesPerRequest}).");
        }

        return await WithInstance(context, study, series, instance, cancellation, async pixels =>
        {
            pixels.CheckFrames(frames);
            var representation = BulkDataNegotiation.Choose(context.Request, pixels.FrameTransferSyntax, pixels.Encapsulated);
            if (representation is null)
            {
                return Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable", BulkDataNegotiation.NotAcceptable(pixels.FrameTransferSyntax, pixels.Encapsulated));
            }

            var location = $"{DicomWebMediaTypes.InstanceUrl(context.Request, study, series, instance)}/frames/";
            return new MultipartBytesResult(representation.Value, frames.Select(f => new Part(location + f, c => pixels.ReadFrameAsync(f, c))).ToList(), pixels);
        });
    }

    private static async Task<IResult> BulkData(HttpContext context, string study, string series, string instance, string path, CancellationToken cancellation)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0 || segments.Length % 2 == 0 || segments.Length > 64)
        {
            return Problems.BadRequest("A bulk data path is a tag (8 hex digits), or tags and 1-based item numbers joined by '/'.");
        }

        return await WithInstance(context, study, series, instance, cancellation, pixels =>
        {
            if (pixels.Find(segments) is not { } element || element.VR == DicomVR.SQ)
            {
                return Task.FromResult(Problems.NotFound($"The instance has no bulk data value at {Shorten(path)}."));
            }

            var uri = BulkDataUri(context.Request, study, series, instance, string.Join('/', segments));
            if (element.Tag == DicomTag.PixelData && segments.Length == 1 && pixels.Encapsulated)
            {
                // Encapsulated Pixel Data is retrieved frame by frame, as the frames resource does (PS3.18 §8.7.3.5).
                var frames = Enumerable.Range(1, pixels.NumberOfFrames).ToList();
                var compressed = BulkDataNegotiation.Choose(context.Request, pixels.FrameTransferSyntax, encapsulated: true);
                return Task.FromResult<IResult>(compressed is null
                    ? Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable", BulkDataNegotiation.NotAcceptable(pixels.FrameTransferSyntax, true))
                    : new MultipartBytesResult(compressed.Value, frames.Select(f => new Part(uri, c => pixels.ReadFrameAsync(f, c))).ToList(), pixels));
            }

            var native = BulkDataNegotiation.Choose(context.Request, StoredPixelData.ExplicitVrLittleEndian, encapsulated: false);
            return Task.FromResult<IResult>(native is null
                ? Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable", BulkDataNegotiation.NotAcceptable(StoredPixelData.ExplicitVrLittleEndian, false))
                : new MultipartBytesResult(native.Value, [new Part(uri, null, element.Length, (output, c) => pixels.CopyValueAsync(element, output, c))], pixels));
        });
    }

    /// <summary>Finds the instance, opens its stored file, and maps the reader's verdicts to problems; the result owns the open file.</summary>
    private static async Task<IResult> WithInstance(HttpContext context, string study, string series, string instance, CancellationToken cancellation, Func<StoredPixelData, Task<IResult>> answer)
    {
        if (!DicomUid.IsValid(study) || !DicomUid.IsValid(series) || !DicomUid.IsValid(instance))
        {
            return Problems.BadRequest("The study, series and instance must be valid UIDs.");
        }

        await using var session = context.RequestServices.GetRequiredService<IDocumentStore>().QuerySessionForCaller(context.User);
        var location = await InstanceLocations.OfAsync(session, study, series, instance, cancellation);
        if (location is null)
        {
            return Problems.NotFound($"No instance {instance} in series {series} of study {study}.");
        }

        StoredPixelData? pixels = null;
        try
        {
            pixels = await StoredPixelData.OpenAsync(context.RequestServices.GetRequiredService<IBlobStore>(), location.Sha256, cancellation);
            var result = await answer(pixels);
            if (result is MultipartBytesResult)
            {
                pixels = null; // the result reads from it and disposes it
            }

            return result;
        }
        catch (StoredValueException e)
        {
            return e.Error switch
            {
                StoredValueError.NotFound or StoredValueError.FrameOutOfRange => Problems.NotFound(e.Message),
                _ => Problems.Create(StatusCodes.Status422UnprocessableEntity, "Unprocessable Entity", e.Message),
            };
        }
        catch (DicomFormatException e)
        {
            return Problems.Create(StatusCodes.Status422UnprocessableEntity, "Unprocessable Entity", $"The stored instance cannot be read: {e.Message}");
        }
        finally
        {
            if (pixels is not null)
            {
                await pixels.DisposeAsync();
            }
        }
    }

    /// <summary>PS3.18 §8.3.4.1: a non-empty list of frame numbers, each ≥ 1, comma separated.</summary>
    private static List<int>? ParseFrames(string list)
    {
        var parts = list.Split(',');
        if (parts.Length > MaxFramesPerRequest)
        {
            return null;
        }

        var frames = new List<int>(parts.Length);
        foreach (var part in parts)
        {
            if (!int.TryParse(part.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var frame) || frame < 1)
            {
                return null;
            }

            frames.Add(frame);
        }

        return frames;
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";

    /// <summary>A part: read whole (a frame), or, when <see cref="Length"/> is known, copied to the response as it is read (a bulk value).</summary>
    private sealed record Part(string Location, Func<CancellationToken, Task<byte[]>>? Read, long Length = 0, Func<Stream, CancellationToken, Task>? Copy = null);

    /// <summary>
    /// The parts written one at a time, each read just before it is written. Errors found before the first byte
    /// (frame range, syntax) were already answered as problems; a read failing midway aborts the response.
    /// </summary>
    private sealed class MultipartBytesResult(BulkDataRepresentation representation, IReadOnlyList<Part> parts, StoredPixelData pixels) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            await using var _ = pixels;
            var boundary = Guid.NewGuid().ToString("N");
            var response = context.Response;
            response.ContentType = $"multipart/related; type=\"{representation.MediaType}\"; boundary={boundary}";
            var body = response.Body;
            foreach (var part in parts)
            {
                var bytes = part.Read is null ? null : await part.Read(context.RequestAborted);
                await body.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
                    $"--{boundary}\r\nContent-Type: {representation.MediaType}; transfer-syntax={representation.TransferSyntax}\r\nContent-Length: {bytes?.Length ?? part.Length}\r\nContent-Location: {part.Location}\r\n\r\n"), context.RequestAborted);
                if (bytes is not null)
                {
                    await body.WriteAsync(bytes, context.RequestAborted);
                }
                else
                {
                    await part.Copy!(body, context.RequestAborted);
                }

                await body.WriteAsync("\r\n"u8.ToArray(), context.RequestAborted);
            }

            await body.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"--{boundary}--\r\n"), context.RequestAborted);
        }
    }
}
