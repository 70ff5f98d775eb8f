using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json.Nodes;
using Carter;
using EventSourced.Application.Blobs;
using EventSourced.Application.Ingestion;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Application.Nodes;
using EventSourced.Application.Pathology.StoringSlides;
using EventSourced.Dicom;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Pathology;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Pacs.Pathology;
using EventSourced.Web.Security;
using Marten;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.Pacs;

/// <summary>
/// Document e, "Digital Pathology APIs": <c>POST pathoRsListener/{CALLING_AET}/studies</c> (a single-file
/// slide, a MIRAX zip, or either with its sidecar) and <c>GET wholeslide?barcode=</c>. The module reads the
/// multipart parts in order, streaming the file part into the blob store as it arrives; the decisions are
/// <see cref="SlideStorage"/>'s and the study stream's.
/// </summary>
public sealed class PacsPathologyModule : ICarterModule
{
    private const int MaxMetadataBytes = 256 * 1024;
    private const int MaxSidecarBytes = 16 * 1024 * 1024;
    private const int MaxFieldBytes = 256;

    /// <summary>VL Whole Slide Microscopy Image Storage (PS3.4 B.5).</summary>
    private const string WholeSlideMicroscopySopClass = "1.2.840.10008.5.1.4.1.1.77.1.6";

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/o3-dpacs-wado").WithTags("PACS: digital pathology");
        group.MapPost("/pathoRsListener/{callingAet}/studies", Store)
            .WithName("PacsPathologyStore")
            .RequireAuthorization(Scopes.StudiesWrite)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict);
        // "Either the CALLING_AET url part was not included": answered, not left to a 404.
        group.MapPost("/pathoRsListener/studies", () => Problems.BadRequest("The CALLING_AET url part is missing: POST /o3-dpacs-wado/pathoRsListener/{CALLING_AET}/studies."))
            .WithName("PacsPathologyStoreWithoutAet")
            .RequireAuthorization(Scopes.StudiesWrite)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/wholeslide", WholeSlide)
            .WithName("PacsWholeSlide")
            .RequireAuthorization(Scopes.StudiesRead)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    /// <summary>The parts as read: small ones whole, the file already in an uncommitted blob.</summary>
    private sealed class Parts : IAsyncDisposable
    {
        public byte[]? Metadata;
        public byte[]? Sidecar;
        public ReceivedSlideFile? File;
        public string? FileHash;
        public string? FileLength;

        public ValueTask DisposeAsync() => File?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    private static async Task<IResult> Store(
        HttpContext context, string callingAet, ClaimsPrincipal user, IOptions<NodeOptions> nodes, IOptions<IngestionOptions> ingestion,
        SlideFileReceiver receiver, SlideStorage storage, ILogger<PacsPathologyModule> logger, CancellationToken cancellation)
    {
        if (nodes.Value.FindDicom(callingAet) is null)
        {
            return Problems.BadRequest($"CALLING_AET '{Printable(callingAet)}' is not a configured node.");
        }

        var request = context.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(contentType.Boundary).ToString() is var boundary && !UploadMultipart.IsAcceptableBoundary(boundary))
        {
            return Problems.BadRequest("Send the parts metadata (or sidecar), file, fileHash and fileLength as multipart/form-data with a boundary.");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = ingestion.Value.MaxRequestBytes;
        }

        await using var parts = new Parts();
        try
        {
            if (await ReadPartsAsync(UploadMultipart.Reader(boundary, request.Body), parts, receiver, cancellation) is { } refused)
            {
                return refused;
            }
        }
        catch (UploadStreamException e) when (e.InnerException is BadHttpRequestException kestrel)
        {
            throw kestrel;
        }
        catch (UploadStreamException e)
        {
            return Problems.BadRequest($"The multipart body is malformed: {e.InnerException?.Message ?? e.Message}");
        }

        if (parts.File is not { } file)
        {
            return Problems.BadRequest("The file part is missing.");
        }

        if (parts.Metadata is null && parts.Sidecar is null)
        {
            return Problems.BadRequest("The metadata part (or the sidecar part) is missing.");
        }

        var expectedHash = parts.FileHash?.Trim();
        if (expectedHash is not null && (expectedHash.Length != 40 || !expectedHash.All(char.IsAsciiHexDigit)))
        {
            return Problems.BadRequest("fileHash is the SHA-1 of the file: 40 hexadecimal digits.");
        }

        long? expectedLength = null;
        if (parts.FileLength is { } lengthText)
        {
            if (!long.TryParse(lengthText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                return Problems.BadRequest("fileLength is the file's size in bytes: a non-negative integer.");
            }

            expectedLength = length;
        }

        byte[] instance;
        SlideIdentity identity;
        if (parts.Sidecar is { } sidecar)
        {
            // Document e: the slide is stored with the sidecar's data instead of the metadata part's.
            var (read, error) = SlideInstance.ReadSidecar(sidecar);
            if (read is null)
            {
                return Problems.BadRequest(error!);
            }

            (instance, identity) = (sidecar, read);
        }
        else
        {
            var (metadata, errors) = SlideMetadata.Parse(parts.Metadata);
            if (metadata is null)
            {
                return Problems.BadRequest(string.Join(" ", errors));
            }

            (instance, identity) = SlideInstance.Build(metadata, user.TenantId(), file.FileName);
        }

        if (file.Mismatch(expectedHash, expectedLength) is { } mismatch)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "Conflict", mismatch);
        }

        var outcome = await storage.StoreAsync(file, instance, identity, callingAet.Trim(), user.TenantId(), user.Actor("pacs-api"), cancellation);
        logger.LogInformation("Pathology upload from {CallingAet}: slide {Container} {Status}", callingAet, identity.ContainerIdentifier, outcome.Status);
        return outcome.Status switch
        {
            SlideStoreStatus.Invalid => Problems.BadRequest(outcome.Detail!),
            SlideStoreStatus.Conflict => Problems.Create(StatusCodes.Status409Conflict, "Conflict", outcome.Detail!),
            _ => TypedResults.Ok(new JsonObject
            {
                ["message"] = outcome.Status == SlideStoreStatus.AlreadyExisted ? "already existed" : "stored",
                ["StudyInstanceUID"] = identity.StudyInstanceUid,
                ["SeriesInstanceUID"] = identity.SeriesInstanceUid,
                ["SOPInstanceUID"] = identity.SopInstanceUid,
                ["ContainerIdentifier"] = identity.ContainerIdentifier,
                ["ReferencedFileID"] = identity.ReferencedFileId,
            }),
        };
    }

    /// <returns>A 400 when a part is refused; null when every part was read.</returns>
    private static async Task<IResult?> ReadPartsAsync(MultipartReader reader, Parts parts, SlideFileReceiver receiver, CancellationToken cancellation)
    {
        while (await UploadMultipart.NextSectionAsync(reader, cancellation) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
            {
                await UploadMultipart.DrainAsync(section.Body, cancellation);
                continue;
            }

            var name = HeaderUtilities.RemoveQuotes(disposition.Name).ToString();
            var seen = name switch
            {
                "metadata" => parts.Metadata is not null,
                "sidecar" => parts.Sidecar is not null,
                "file" => parts.File is not null,
                "fileHash" => parts.FileHash is not null,
                "fileLength" => parts.FileLength is not null,
                _ => false,
            };
            if (seen)
            {
                return Problems.BadRequest($"The part '{name}' is sent twice.");
            }

            switch (name)
            {
                case "metadata":
                    parts.Metadata = await UploadMultipart.ReadBoundedAsync(section.Body, MaxMetadataBytes, cancellation);
                    if (parts.Metadata is null)
                    {
                        return Problems.BadRequest($"The metadata part is larger than {MaxMetadataBytes} bytes.");
                    }

                    break;
                case "sidecar":
                    parts.Sidecar = await UploadMultipart.ReadBoundedAsync(section.Body, MaxSidecarBytes, cancellation);
                    if (parts.Sidecar is null)
                    {
                        return Problems.BadRequest($"The sidecar part is larger than {MaxSidecarBytes} bytes.");
                    }

                    break;
                case "file":
                    var fileName = Path.GetFileName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).ToString());
                    if (fileName.Length is 0 or > 255 || fileName.Any(c => char.IsControl(c) || c is '\\' or '"'))
                    {
                        await UploadMultipart.DrainAsync(section.Body, cancellation);
                        return Problems.BadRequest("The file part needs a filename (the slide's file name, without control characters, backslashes or quotes).");
                    }

                    var (file, error) = await receiver.ReceiveAsync(section.Body, fileName, IsZip(section.ContentType, fileName), cancellation);
                    if (file is null)
                    {
                        return Problems.BadRequest(error!);
                    }

                    parts.File = file;
                    break;
                case "fileHash" or "fileLength":
                    var value = await UploadMultipart.ReadBoundedAsync(section.Body, MaxFieldBytes, cancellation);
                    if (value is null)
                    {
                        return Problems.BadRequest($"The part '{name}' is larger than {MaxFieldBytes} bytes.");
                    }

                    var text = Encoding.UTF8.GetString(value);
                    if (name == "fileHash")
                    {
                        parts.FileHash = text;
                    }
                    else
                    {
                        parts.FileLength = text;
                    }

                    break;
                default:
                    await UploadMultipart.DrainAsync(section.Body, cancellation);
                    break;
            }
        }

        return null;
    }

    /// <summary>Document e: a MIRAX archive's part carries <c>Content-Type: application/zip</c>; a .zip name is taken as the same.</summary>
    private static bool IsZip(string? contentType, string fileName) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type) && type.MediaType.Value is { } media
            && (media.Equals("application/zip", StringComparison.OrdinalIgnoreCase) || media.Equals("application/x-zip-compressed", StringComparison.OrdinalIgnoreCase))
        || fileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase);

    private static string Printable(string text) => new([.. text.Take(64).Select(c => char.IsControl(c) ? '?' : c)]);

    private static async Task<IResult> WholeSlide(HttpRequest request, IDocumentStore store, IBlobStore blobs, CancellationToken cancellation)
    {
        var barcodes = request.Query["barcode"];
        if (barcodes.Count != 1 || string.IsNullOrWhiteSpace(barcodes[0]) || barcodes[0]!.Length > 64 || barcodes[0]!.Any(char.IsControl))
        {
            return Problems.BadRequest("barcode (the slide's Container Identifier, at most 64 characters) is required, once.");
        }

        var barcode = barcodes[0]!;
        await using var session = store.QuerySessionForCaller(request.HttpContext.User);
        // Container Identifier (0040,0512) of the visible instances: a deprecated slide is no longer found.
        var found = await PacsSeriesLookup.WithContainer(session, barcode)
            .Where(x => x.SopClassUid == SlideInstance.SopClassUid || x.SopClassUid == WholeSlideMicroscopySopClass)
            .ToListAsync(cancellation);

        // One whole slide per slide instance of ours, and one per series of DICOM whole-slide images (a pyramid).
        var slides = found.Where(i => i.SopClassUid == SlideInstance.SopClassUid).Select(i => new[] { i })
            .Concat(found.Where(i => i.SopClassUid == WholeSlideMicroscopySopClass).GroupBy(i => (i.StudyKey, i.SeriesInstanceUid)).Select(g => g.ToArray()))
            .ToList();
        if (slides.Count == 0)
        {
            return Problems.NotFound($"No whole slide has the barcode '{barcode}'.");
        }

        if (slides.Count > 1)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "Conflict", $"{slides.Count} whole slides have the barcode '{barcode}'.");
        }

        var slide = slides[0];
        if (slide[0].SopClassUid == WholeSlideMicroscopySopClass)
        {
            var baseline = slide.MaxBy(i => PixelMatrixSize(i.Header))!;
            return BlobResult(blobs, baseline.Blob.Sha256, "application/dicom", $"{baseline.SopInstanceUid}.dcm");
        }

        var kept = await WholeSlideFile.OfInstanceAsync(session, slide[0], cancellation);
        if (kept is null)
        {
            return Problems.NotFound($"The slide '{barcode}' has no slide file stored.");
        }

        return kept.File.Kind == SlideFileKind.Mirax
            ? new MiraxZipResult(kept.File, blobs)
            : BlobResult(blobs, kept.File.Blob.Sha256, "application/octet-stream", kept.File.FileName);
    }

    /// <summary>TotalPixelMatrixColumns × TotalPixelMatrixRows (PS3.3 C.8.12.4): the baseline is the largest.</summary>
    private static long PixelMatrixSize(System.Text.Json.JsonElement header)
    {
        long Value(DicomTag tag) =>
            header.ValueKind == System.Text.Json.JsonValueKind.Object && header.TryGetProperty(tag.JsonKey(), out var a)
            && a.TryGetProperty("Value", out var v) && v.ValueKind == System.Text.Json.JsonValueKind.Array && v.GetArrayLength() > 0
            && v[0].TryGetInt64(out var n) ? n : 0;
        return Value(DicomTags.TotalPixelMatrixColumns) * Value(DicomTags.TotalPixelMatrixRows);
    }

    private static IResult BlobResult(IBlobStore blobs, string sha256, string contentType, string fileName) =>
        blobs.OpenRead(sha256) is { } stream
            ? TypedResults.Stream(stream, contentType, fileName)
            : throw new InvalidOperationException($"Blob {sha256} of a whole slide is missing.");

    /// <summary>A MIRAX slide: the .mrxs and its data folder, as <see cref="PathologySlides.WriteMiraxZipAsync"/> writes them.</summary>
    private sealed class MiraxZipResult(SlideFile file, IBlobStore blobs) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            var stored = PathologySlides.OpenStored(blobs, file) ?? throw new InvalidOperationException($"Blob {file.Blob.Sha256} of a MIRAX slide is missing.");
            context.Response.ContentType = "application/zip";
            context.Response.Headers.ContentDisposition = $"attachment; filename=\"{PathologySlides.ServedName(file)}\"";
            await PathologySlides.WriteMiraxZipAsync(context.Response.Body, stored, file, blobs, context.RequestAborted);
        }
    }
}
