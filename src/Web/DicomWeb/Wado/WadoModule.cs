using System.Security.Claims;
using Carter;
using EventSourced.Application.Blobs;
using EventSourced.Dicom;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Qido;
using EventSourced.Projections.Studies;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Security;
using EventSourced.Web.Shared.DicomWeb;
using Marten;
using Microsoft.Net.Http.Headers;

namespace EventSourced.Web.DicomWeb.Wado;

/// <summary>
/// WADO-RS instance retrieval (PS3.18 §10.4): a study, a series or an instance as
/// <c>multipart/related; type="application/dicom"</c>, each part the stored file byte for byte (we do
/// not transcode: a request for another transfer syntax than the stored one is a 406).
/// </summary>
public sealed class WadoModule : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/dicomweb/studies").WithTags("DICOMweb: WADO-RS").RestrictedToViewerStudy();
        group.MapGet("/{study}", (string study, HttpContext context, CancellationToken cancellation) =>
                Retrieve(context, study, null, null, cancellation))
            .WithName("WadoStudy");
        group.MapGet("/{study}/series/{series}", (string study, string series, HttpContext context, CancellationToken cancellation) =>
                Retrieve(context, study, series, null, cancellation))
            .WithName("WadoSeries");
        group.MapGet("/{study}/series/{series}/instances/{instance}", (string study, string series, string instance, HttpContext context, CancellationToken cancellation) =>
                Retrieve(context, study, series, instance, cancellation))
            .WithName("WadoInstance");

        group.MapGet("/{study}/metadata", (string study, HttpContext context, CancellationToken cancellation) =>
                Metadata(context, study, null, null, cancellation))
            .WithName("WadoStudyMetadata");
        group.MapGet("/{study}/series/{series}/metadata", (string study, string series, HttpContext context, CancellationToken cancellation) =>
                Metadata(context, study, series, null, cancellation))
            .WithName("WadoSeriesMetadata");
        group.MapGet("/{study}/series/{series}/instances/{instance}/metadata", (string study, string series, string instance, HttpContext context, CancellationToken cancellation) =>
                Metadata(context, study, series, instance, cancellation))
            .WithName("WadoInstanceMetadata");
    }

    /// <summary>
    /// WADO-RS metadata (PS3.18 §10.4.1.1.2): the DICOM JSON of each instance as kept by the QIDO instance
    /// record (the header recorded at store time; binary values it left out are referenced by BulkDataURI).
    /// </summary>
    private static async Task<IResult> Metadata(HttpContext context, string study, string? series, string? instance, CancellationToken cancellation)
    {
        if (InvalidUid(study, series, instance) is { } invalid)
        {
            return invalid;
        }

        if (DicomWebMediaTypes.ChooseMetadata(context.Request) is not { } mediaType)
        {
            return Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable",
                "Metadata is served as application/dicom+json, or as multipart/related; type=\"application/dicom+xml\".");
        }

        var tenantId = context.User.TenantId();
        var xml = mediaType == DicomWebMediaTypes.DicomXml;
        var blobs = context.RequestServices.GetRequiredService<IBlobStore>();
        var store = context.RequestServices.GetRequiredService<IDocumentStore>();
        if (series is not null || instance is not null || xml)
        {
            await using var session = store.QuerySessionForCaller(context.User);
            // One round trip: the instance records (on the duplicated, indexed columns, in the order of the
            // QIDO order index) and the study's record, whose corrections the headers served carry.
            var batch = session.CreateBatchQuery();
            var found = batch.Query<Projections.Qido.QidoInstance>(
                "where tenant_id = ? and study_instance_uid = ?" + (series is null ? "" : " and series_instance_uid = ?") + (instance is null ? "" : " and sop_instance_uid = ?")
                + " order by series_instance_uid, instance_number, sop_instance_uid",
                [session.TenantId, study, .. series is null ? Array.Empty<object>() : [series], .. instance is null ? Array.Empty<object>() : [instance]]);
            var queued = Shared.Retrieval.CoercedRetrieval.QueueStudy(batch, session.TenantId, study);
            await batch.Execute(cancellation);
            var instances = await found;
            if (instances.Count == 0)
            {
                return Problems.NotFound($"No instances for {instance ?? series ?? study}.");
            }

            // Patient corrections: the headers served carry the study's current patient (Retrieval/CoercedRetrieval).
            var corrections = await Shared.Retrieval.CoercedRetrieval.ForStudyAsync(session, blobs, study, queued, cancellation);
            return new MetadataResult([.. instances.Select(i => i with { Header = corrections.Header(i.StudyInstanceUid, i.Header) })], xml);
        }

        // A study's DICOM JSON is rendered once per state of its stream (Shared/Retrieval/StudyRetrievalCache):
        // the state is read first; an unchanged study is answered from the rendering.
        var cache = context.RequestServices.GetRequiredService<Shared.Retrieval.StudyRetrievalCache>();
        var key = new RenderedMetadataKey(tenantId, study, context.Request.Scheme, context.Request.Host.Value, context.Request.PathBase.Value);
        var reads = context.RequestServices.GetRequiredService<Shared.Retrieval.RetrievalReads>();
        if (cache.Holds(key))
        {
            // Most likely unchanged: the stamp alone, by key, on retrieval's own pool, without a Marten session.
            var current = await reads.StudyStampAsync(tenantId, study, cancellation);
            if (cache.TryGet<byte[]>(key, current, out var rendered))
            {
                return new RenderedJsonResult(rendered);
            }
        }

        // Nothing kept at this state: one round trip on retrieval's own pool, the stamp first (read again: the
        // rendering is kept under the one read before what it renders), the headers in the order of the QIDO order
        // index, the study's record, whose corrections the headers served carry.
        var (stamp, headers, record) = await reads.StudyMetadataAsync(tenantId, study, cancellation);
        if (headers.Count == 0)
        {
            return Problems.NotFound($"No instances for {study}.");
        }

        // Patient corrections: the headers served carry the study's current patient (Retrieval/CoercedRetrieval); a
        // record not found under its key (or under it with another UID) is looked up by UID, as CoercedRetrieval does.
        var patient = record is { } kept && kept.StudyInstanceUid == study ? kept.AssignedPatient : await PatientByUidAsync();
        var rendering = new StudyRendering(study, headers, patient, StudiesUrl(context.Request));
        if (headers.Count > MaxRenderedInstances)
        {
            return rendering;
        }

        var json = rendering.ToArray();
        cache.Set(key, stamp, json, json.Length);
        return new RenderedJsonResult(json);

        async Task<PatientDemographics?> PatientByUidAsync()
        {
            await using var session = store.QuerySessionForCaller(context.User);
            return (await Shared.Retrieval.CoercedRetrieval.ForStudiesAsync(session, blobs, [study], cancellation)).PatientOf(study);
        }
    }

    /// <summary>A study with more instances than this is streamed as it is written, neither built in memory nor kept.</summary>
    private const int MaxRenderedInstances = 2000;

    /// <summary>
    /// Tenant, study and what the URL the BulkDataURIs of the rendering start with is made of (scheme, host and path
    /// base of the request, as received: equal parts make equal URLs, and no URL is built to look a rendering up).
    /// </summary>
    private sealed record RenderedMetadataKey(string TenantId, string Study, string Scheme, string? Host, string? PathBase);

    /// <summary>
    /// A study's DICOM JSON written from its instances' headers as read (<see cref="Shared.Retrieval.RetrievalReads.StudyMetadataAsync"/>):
    /// each header of an uncorrected study copied token by token with its BulkDataURIs (<see cref="BulkDataUris.Copy"/>),
    /// a header of a study whose patient was corrected parsed and coerced first; the same bytes as
    /// <see cref="MetadataResult"/> writes for the same instance records.
    /// </summary>
    private sealed class StudyRendering(string study, IReadOnlyList<Shared.Retrieval.StudyHeader> headers, PatientDemographics? patient, string studiesUrl) : IResult
    {
        /// <summary>A rendering's buffer, kept per thread for the next one (unless it grew past this).</summary>
        private const int KeptBuffer = 1024 * 1024;

        [ThreadStatic]
        private static System.Buffers.ArrayBufferWriter<byte>? buffer;

        public byte[] ToArray()
        {
            var written = buffer ?? new System.Buffers.ArrayBufferWriter<byte>(64 * 1024);
            buffer = null;
            try
            {
                using (var writer = new System.Text.Json.Utf8JsonWriter(written, JsonOptions))
                {
                    writer.WriteStartArray();
                    foreach (var header in headers)
                    {
                        Write(writer, header);
                    }

                    writer.WriteEndArray();
                }

                return written.WrittenSpan.ToArray();
            }
            finally
            {
                if (written.Capacity <= KeptBuffer)
                {
                    written.ResetWrittenCount();
                    buffer = written;
                }
            }
        }

        public Task ExecuteAsync(HttpContext context) => WriteJsonArrayAsync(context, headers, Write);

        private void Write(System.Text.Json.Utf8JsonWriter writer, Shared.Retrieval.StudyHeader header)
        {
            var url = InstanceUrl(studiesUrl, study, header.SeriesInstanceUid, header.SopInstanceUid);
            if (patient is null)
            {
                BulkDataUris.Copy(writer, header.Header, url, header.TransferSyntaxUid);
                return;
            }

            using var parsed = System.Text.Json.JsonDocument.Parse(header.Header, DicomJsonWriter.DocumentOptions);
            BulkDataUris.Write(writer, PatientHeaders.Coerce(parsed.RootElement, patient), url, header.TransferSyntaxUid);
        }
    }

    /// <summary>
    /// One instance's DICOM JSON: its recorded header with BulkDataURIs under its WADO-RS URL
    /// (<see cref="DicomWebMediaTypes.InstanceUrl"/>, from <paramref name="studiesUrl"/>, <see cref="StudiesUrl"/>, built once per answer).
    /// </summary>
    private static void WriteInstance(System.Text.Json.Utf8JsonWriter writer, Projections.Qido.QidoInstance instance, string studiesUrl) =>
        BulkDataUris.Write(writer, instance.Header, InstanceUrl(studiesUrl, instance.StudyInstanceUid, instance.SeriesInstanceUid, instance.SopInstanceUid), instance.TransferSyntaxUid);

    private static string InstanceUrl(string studiesUrl, string study, string series, string instance) =>
        string.Concat([studiesUrl, study, "/series/", series, "/instances/", instance]);

    /// <summary>The request's WADO-RS studies URL, which every study URL continues (<see cref="DicomWebMediaTypes.StudyUrl"/> of the empty UID).</summary>
    private static string StudiesUrl(HttpRequest request) => DicomWebMediaTypes.StudyUrl(request, "");

    private sealed class RenderedJsonResult(byte[] json) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.ContentType = DicomWebMediaTypes.DicomJson;
            context.Response.ContentLength = json.Length;
            return context.Response.Body.WriteAsync(json, context.RequestAborted).AsTask();
        }
    }

    /// <summary>Each instance's recorded header, with a BulkDataURI for every binary value it left out (PS3.18 §10.4.1.1.2, §F.2.6).</summary>
    private static readonly System.Text.Json.JsonWriterOptions JsonOptions = new()
    {
        MaxDepth = DicomJsonWriter.MaxJsonDepth,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private sealed class MetadataResult(IReadOnlyList<Projections.Qido.QidoInstance> instances, bool xml) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            var studies = StudiesUrl(context.Request);
            if (xml)
            {
                await DicomWebMediaTypes.WriteXmlPartsAsync(context.Response, instances.Select(i =>
                {
                    var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                    using (var json = new System.Text.Json.Utf8JsonWriter(buffer, JsonOptions))
                    {
                        WriteInstance(json, i, studies);
                    }

                    return System.Text.Json.JsonDocument.Parse(buffer.WrittenMemory, DicomJsonWriter.DocumentOptions).RootElement;
                }));
                return;
            }

            await WriteJsonArrayAsync(context, instances, (writer, instance) => WriteInstance(writer, instance, studies));
        }
    }

    /// <summary>A DICOM JSON array of <paramref name="items"/>, written to the response as it grows (flushed every 64 KiB).</summary>
    private static async Task WriteJsonArrayAsync<T>(HttpContext context, IEnumerable<T> items, Action<System.Text.Json.Utf8JsonWriter, T> write)
    {
        context.Response.ContentType = DicomWebMediaTypes.DicomJson;
        await using var writer = new System.Text.Json.Utf8JsonWriter(context.Response.Body, JsonOptions);
        writer.WriteStartArray();
        foreach (var item in items)
        {
            write(writer, item);
            if (writer.BytesPending > 64 * 1024)
            {
                await writer.FlushAsync(context.RequestAborted);
            }
        }

        writer.WriteEndArray();
        await writer.FlushAsync(context.RequestAborted);
    }

    private static async Task<IResult> Retrieve(HttpContext context, string study, string? series, string? instance, CancellationToken cancellation)
    {
        if (InvalidUid(study, series, instance) is { } invalid)
        {
            return invalid;
        }

        if (!Negotiate(context.Request, out var wanted))
        {
            return Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable",
                "Instances are served as multipart/related; type=\"application/dicom\" in their stored transfer syntax.");
        }

        var store = context.RequestServices.GetRequiredService<IDocumentStore>();
        var blobs = context.RequestServices.GetRequiredService<IBlobStore>();
        if (instance is not null)
        {
            return await RetrieveInstance(context.RequestServices, store, context.User.TenantId(), blobs, study, series!, instance, wanted, cancellation);
        }

        await using var session = store.QuerySessionForCaller(context.User);

        var instances = await InstanceLocations.InStudyAsync(session, study, series, cancellation);
        return await Answer(instances, wanted, series ?? study,
            () => Shared.Retrieval.CoercedRetrieval.ForStudiesAsync(session, blobs, [study], cancellation));
    }

    /// <summary>
    /// One instance, the hot path of a viewer: its study stream's state and its location are read by key in one
    /// round trip (the state first), the study's corrections come from <see cref="Shared.Retrieval.StudyRetrievalCache"/>
    /// while that state is unchanged (else from its record, and kept), and a file of an uncorrected study is
    /// streamed as stored. The round trip is prepared SQL on retrieval's own pool
    /// (<see cref="Shared.Retrieval.RetrievalReads"/>): once corrections of the study are kept, the stamp and the
    /// location; before, the study's record too.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<IResult> RetrieveInstance(IServiceProvider services, IDocumentStore store, string tenantId, IBlobStore blobs, string study, string series, string instance, string? wanted, CancellationToken cancellation)
    {
        var cache = services.GetRequiredService<Shared.Retrieval.StudyRetrievalCache>();
        Shared.Retrieval.StudyStamp? stamp;
        InstanceLocation? location;
        Task<QidoStudy?>? studyRecord = null;
        var reads = services.GetRequiredService<Shared.Retrieval.RetrievalReads>();
        if (Shared.Retrieval.CoercedRetrieval.Kept(cache, tenantId, study))
        {
            (stamp, location) = await reads.InstanceAsync(tenantId, study, series, instance, cancellation);
        }
        else
        {
            QidoStudy? record;
            (stamp, location, record) = await reads.InstanceWithStudyAsync(tenantId, study, series, instance, cancellation);
            studyRecord = Task.FromResult(record);
        }

        if (location is not { } found)
        {
            return Problems.NotFound($"No instances for {instance}.");
        }

        if (wanted is not null && found.TransferSyntaxUid != wanted)
        {
            return NotTranscoded([found.TransferSyntaxUid], wanted);
        }

        return new MultipartDicomResult([found], await Shared.Retrieval.CoercedRetrieval.ForStudyAsync(store, tenantId, blobs, cache, study, stamp, studyRecord, cancellation));
    }

    private static async Task<IResult> Answer(IReadOnlyList<InstanceLocation> instances, string? wanted, string asked, Func<Task<Shared.Retrieval.CoercedRetrieval>> coercion)
    {
        if (instances.Count == 0)
        {
            return Problems.NotFound($"No instances for {asked}.");
        }

        if (wanted is not null && instances.Any(i => i.TransferSyntaxUid != wanted))
        {
            return NotTranscoded(instances.Select(i => i.TransferSyntaxUid).Distinct(), wanted);
        }

        return new MultipartDicomResult(instances, await coercion());
    }

    private static IResult NotTranscoded(IEnumerable<string> stored, string wanted) =>
        Problems.Create(StatusCodes.Status406NotAcceptable, "Not Acceptable",
            $"Stored in {string.Join(", ", stored)}; transcoding to {wanted} is not supported (ask for transfer-syntax=*).");

    private static IResult? InvalidUid(string study, string? series, string? instance) =>
        (Invalid(study) ?? Invalid(series) ?? Invalid(instance)) is { } bad
            ? Problems.BadRequest($"'{bad}' is not a valid UID.")
            : null;

    private static string? Invalid(string? uid) => uid is not null && !DicomUid.IsValid(uid) ? uid : null;

    /// <summary>
    /// Accepts multipart/related with type application/dicom (or no type), any of */*, and a
    /// transfer-syntax parameter: absent or <c>*</c> means "as stored"; a UID means exactly that one.
    /// </summary>
    private static bool Negotiate(HttpRequest request, out string? transferSyntax)
    {
        (var acceptable, transferSyntax) = Negotiated.Of(request);
        return acceptable;
    }

    private static readonly AcceptMemo<(bool Acceptable, string? TransferSyntax)> Negotiated =
        new(request => (NegotiateOnce(request, out var syntax), syntax));

    private static bool NegotiateOnce(HttpRequest request, out string? transferSyntax)
    {
        transferSyntax = null;
        var accept = request.GetTypedHeaders().Accept;
        if (accept.Count == 0)
        {
            return true;
        }

        foreach (var media in accept.OrderByDescending(a => a.Quality ?? 1))
        {
            if (media.MatchesAllTypes)
            {
                return true;
            }

            if (!media.MediaType.Equals(DicomWebMediaTypes.MultipartRelated, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var type = HeaderUtilities.RemoveQuotes(media.Parameters.FirstOrDefault(p => p.Name.Equals("type", StringComparison.OrdinalIgnoreCase))?.Value ?? default).ToString();
            if (type.Length > 0 && !type.Equals(DicomWebMediaTypes.Dicom, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var syntax = HeaderUtilities.RemoveQuotes(media.Parameters.FirstOrDefault(p => p.Name.Equals("transfer-syntax", StringComparison.OrdinalIgnoreCase))?.Value ?? default).ToString();
            transferSyntax = syntax is "" or "*" ? null : syntax;
            return true;
        }

        return false;
    }

    private sealed class MultipartDicomResult(IReadOnlyList<InstanceLocation> instances, Shared.Retrieval.CoercedRetrieval blobs) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            if (instances is [var one])
            {
                await Shared.Retrieval.MultipartDicom.WriteOneAsync(context.Response, Guid.NewGuid(), one, blobs, context.RequestAborted);
                return;
            }

            var boundary = Guid.NewGuid().ToString("N");
            context.Response.ContentType = Shared.Retrieval.MultipartDicom.ContentType(boundary);
            await Shared.Retrieval.MultipartDicom.WriteAsync(context.Response.Body, boundary, instances, blobs, context.RequestAborted);
        }
    }
}
