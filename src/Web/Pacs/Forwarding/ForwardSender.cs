using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EventSourced.Application.Blobs;
using EventSourced.Application.Forwarding;
using EventSourced.Application.Forwarding.SendingForward;
using EventSourced.Dicom;
using EventSourced.Domain.Forwarding;
using EventSourced.Domain.Studies;
using EventSourced.Projections.Studies;
using EventSourced.Web.Pacs.Pathology;
using EventSourced.Web.Shared.Retrieval;
using Marten;
using Microsoft.Extensions.Options;

namespace EventSourced.Web.Pacs.Forwarding;

/// <summary>
/// One attempt of a forward, to the destination its job names now (a corrected configuration serves the
/// next attempt). A series goes to the peer's STOW-RS (<c>POST {node}/studies</c>) as one multipart/related
/// request per series, each instance as our WADO-RS serves it (the patient identity corrected, else the
/// stored bytes). A container's pathology slides go to the job's endpoint, one POST per slide, as
/// <c>wholeslide</c> serves them (the file as received; a MIRAX slide as the zip of its index and data
/// folder), with the configured Authorization header.
/// </summary>
public sealed class ForwardSender(IDocumentStore store, IBlobStore blobs, IHttpClientFactory clients, IOptions<ForwardingOptions> options) : IForwardSender
{
    public const string HttpClientName = "forwarding";
    public const string ForwardIdHeader = "X-Forward-Id";
    public const string ContainerHeader = "X-Container-Identifier";

    /// <summary>PS3.18 Table 10.5.3-1: the STOW-RS response's Failed SOP Sequence and Referenced SOP Sequence (the instances stored).</summary>
    private static readonly string FailedSopSequence = DicomTags.FailedSOPSequence.JsonKey();

    private static readonly string ReferencedSopSequence = DicomTags.ReferencedSOPSequence.JsonKey();

    public async Task<ForwardDelivery> SendAsync(Forward forward, string tenantId, CancellationToken cancellation)
    {
        var (destination, error) = options.Value.Current(forward.Job, forward.Kind);
        if (destination is null)
        {
            throw new ForwardSendException($"Job '{forward.Job}': {error}.");
        }

        await using var session = store.QuerySession(tenantId);
        if (forward.Kind == ForwardKind.NonDicomSlides)
        {
            return await PostSlidesAsync(forward, destination, session, cancellation);
        }

        var files = 0;
        long bytes = 0;
        foreach (var series in forward.Series)
        {
            var instances = await InstanceLocations.InStudyAsync(session, series.StudyInstanceUid, series.SeriesInstanceUid, cancellation);
            if (instances.Count == 0)
            {
                throw new ForwardSendException($"Series {series.SeriesInstanceUid} has no retrievable instance (deprecated since the request?).");
            }

            bytes += await StowAsync(forward, destination, instances, await CoercedRetrieval.ForStudiesAsync(session, blobs, [series.StudyInstanceUid], cancellation), cancellation);
            files += instances.Count;
        }

        return new ForwardDelivery(files, bytes);
    }

    private async Task<long> StowAsync(Forward forward, ForwardDestination destination, IReadOnlyList<InstanceLocation> instances, CoercedRetrieval retrieval, CancellationToken cancellation)
    {
        var content = new MultipartDicomContent(instances, retrieval);
        using var request = new HttpRequestMessage(HttpMethod.Post, destination.Url.TrimEnd('/') + "/studies") { Content = content };
        request.Headers.Accept.ParseAdd("application/dicom+json");
        var answer = await SendAsync(forward, destination, request, cancellation);
        if (Stored(answer) is { } stored && stored < instances.Count)
        {
            throw new ForwardSendException($"{destination.Url} stored {stored} of {instances.Count} instances of series {instances[0].SeriesInstanceUid}.");
        }

        return content.Written;
    }

    /// <summary>
    /// The container's slide files as they are now (a slide deprecated since the request is not sent), one POST
    /// each: a single-file slide as stored, a MIRAX slide as the zip <c>wholeslide</c> serves.
    /// </summary>
    private async Task<ForwardDelivery> PostSlidesAsync(Forward forward, ForwardDestination destination, IQuerySession session, CancellationToken cancellation)
    {
        var slides = await PathologySlides.OfContainerAsync(session, forward.Key, cancellation);
        if (slides.Count == 0)
        {
            throw new ForwardSendException($"Container {forward.Key} has no slide file (deprecated since the request?).");
        }

        long total = 0;
        foreach (var slide in slides)
        {
            var file = slide.File.File;
            var stored = PathologySlides.OpenStored(blobs, file)
                ?? throw new ForwardSendException($"The stored file of slide {slide.Instance.SopInstanceUid} is missing.");
            HttpContent content = file.Kind == SlideFileKind.Mirax
                ? new MiraxZipContent(stored, file, blobs)
                : new StreamContent(stored) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream"), ContentLength = file.Blob.Length } };
            content.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = $"\"{PathologySlides.ServedName(file)}\"" };
            using var request = new HttpRequestMessage(HttpMethod.Post, destination.Url) { Content = content };
            request.Headers.Add(ContainerHeader, forward.Key);
            await SendAsync(forward, destination, request, cancellation);
            total += content is MiraxZipContent zip ? zip.Written : file.Blob.Length;
        }

        return new ForwardDelivery(slides.Count, total);
    }

    /// <summary>Sends with the forward's id and the job's Authorization header; anything but a 2xx in time is a failed attempt.</summary>
    private async Task<byte[]> SendAsync(Forward forward, ForwardDestination destination, HttpRequestMessage request, CancellationToken cancellation)
    {
        request.Headers.Add(ForwardIdHeader, forward.Id.ToString());
        if (destination.Authorization is { } authorization)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new ForwardSendException($"{destination.Url} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
            }

            return body;
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellation.IsCancellationRequested))
        {
            throw new ForwardSendException($"{destination.Url} could not be reached: {e.Message}", e);
        }
    }

    /// <summary>
    /// How many instances the STOW-RS response (PS3.18 Table 10.5.3-1) lists as stored: the Referenced SOP
    /// Sequence's items, none when the Failed SOP Sequence has any; null when the answer is not DICOM JSON (a
    /// 2xx is then taken as stored). A peer may answer 200 having stored nothing (Orthanc does for a part it
    /// does not take), so the count is checked, not just the status.
    /// </summary>
    private static int? Stored(byte[] answer)
    {
        if (answer.Length == 0)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(answer);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() == 1)
            {
                root = root[0];
            }

            if (root.ValueKind != JsonValueKind.Object || (!root.TryGetProperty(FailedSopSequence, out _) && !root.TryGetProperty(ReferencedSopSequence, out _)))
            {
                return null;
            }

            return Items(root, FailedSopSequence) > 0 ? 0 : Items(root, ReferencedSopSequence);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static int Items(JsonElement dataset, string tag) =>
        dataset.TryGetProperty(tag, out var sequence) && sequence.TryGetProperty("Value", out var items) && items.ValueKind == JsonValueKind.Array
            ? items.GetArrayLength()
            : 0;

    /// <summary>A MIRAX slide's zip, written as the HTTP client sends it (chunked: its length is known once written).</summary>
    private sealed class MiraxZipContent : HttpContent
    {
        private readonly Stream stored;
        private readonly SlideFile file;
        private readonly IBlobStore blobs;

        public MiraxZipContent(Stream stored, SlideFile file, IBlobStore blobs)
        {
            (this.stored, this.file, this.blobs) = (stored, file, blobs);
            Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        }

        public long Written { get; private set; }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            Written = await PathologySlides.WriteMiraxZipAsync(stream, stored, file, blobs, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                stored.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>The request body, written blob by blob as the HTTP client sends it (chunked: a coerced file's length is known only once built).</summary>
    private sealed class MultipartDicomContent : HttpContent
    {
        private readonly IReadOnlyList<InstanceLocation> instances;
        private readonly CoercedRetrieval retrieval;
        private readonly string boundary = Guid.NewGuid().ToString("N");

        public MultipartDicomContent(IReadOnlyList<InstanceLocation> instances, CoercedRetrieval retrieval)
        {
            this.instances = instances;
            this.retrieval = retrieval;
            Headers.TryAddWithoutValidation("Content-Type", MultipartDicom.ContentType(boundary));
        }

        public long Written { get; private set; }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            Written = await MultipartDicom.WriteAsync(stream, boundary, instances, retrieval, cancellationToken, transferSyntaxParameter: false);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
