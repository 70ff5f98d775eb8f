using System.Buffers;
using System.Text.Json;
using EventSourced.Application.Blobs;
using EventSourced.Dicom;
using EventSourced.Domain.Studies;
using Microsoft.Extensions.Options;

namespace EventSourced.Application.Ingestion.ReceivingInstances;

/// <summary>Why an instance was not stored: the DICOM failure reason (PS3.18 §10.5.3, PS3.4 Annex GG / C.4.2.1.4) and a sentence.</summary>
public sealed record ReceiveFailure(ushort Reason, string Detail, string? SopClassUid, string? SopInstanceUid)
{
    /// <summary>0xC000: cannot understand (not DICOM, truncated, malformed).</summary>
    public const ushort CannotUnderstand = 0xC000;

    /// <summary>0xA700: out of resources (here: larger than the configured maximum).</summary>
    public const ushort OutOfResources = 0xA700;

    /// <summary>0xA900: the data set does not match (here: its StudyInstanceUID is not the one in the URL).</summary>
    public const ushort DataSetDoesNotMatch = 0xA900;

    /// <summary>0x0110: processing failure.</summary>
    public const ushort ProcessingFailure = 0x0110;

    /// <summary>0x0111: duplicate SOP instance (different bytes after the replace window).</summary>
    public const ushort DuplicateSopInstance = 0x0111;
}

/// <summary>
/// One instance from any upload channel: written to a temporary blob while hashed, its header parsed
/// with the codec from that file (streaming mode: pixel data and large values are passed over, never
/// loaded), validated, and only then committed. A part that fails leaves nothing behind. The caller
/// then sends <c>StoreInstance</c> with the result: the blob is durable before any event names it.
/// </summary>
/// <param name="Durable">Completes with the instance (its blob reference filled in) once the blob is durable; faults when committing it failed.</param>
public sealed record PendingInstance(Task<StoredInstance> Durable);

/// <remarks>
/// With <paramref name="locations"/> and <paramref name="placement"/> (the service passes both), an
/// instance of a relocated study is committed at the study's location: written to the local medium's
/// temporary file as always (streamed, hashed), then copied into the study's store when it commits.
/// </remarks>
public sealed class InstanceReceiver(
    IBlobStore blobs, IOptions<IngestionOptions> options, IBlobLocations? locations = null, IStudyPlacement? placement = null)
{
    /// <summary>Receives one instance and commits its blob: when this returns an instance, its blob is durable.</summary>
    public async Task<(StoredInstance? Instance, ReceiveFailure? Failure)> ReceiveAsync(
        Stream content, string? expectedStudyUid, IngestChannel channel, string? callingAeTitle, CancellationToken cancellation)
    {
        var (pending, failure) = await ReceivePendingAsync(content, expectedStudyUid, channel, callingAeTitle, cancellation);
        return pending is null ? (null, failure) : (await pending.Durable, null);
    }

    /// <summary>
    /// Receives and validates one instance; its blob's commit (fsync, rename, directory fsync) goes on in
    /// the background, so a caller with more parts to read can read the next one meanwhile and the commits
    /// of a request's parts overlap. The instance may be recorded only once <see cref="PendingInstance.Durable"/>
    /// has completed.
    /// </summary>
    public async Task<(PendingInstance? Pending, ReceiveFailure? Failure)> ReceivePendingAsync(
        Stream content, string? expectedStudyUid, IngestChannel channel, string? callingAeTitle, CancellationToken cancellation)
    {
        var write = blobs.BeginWrite();
        var handedOver = false;
        try
        {
            var (received, failure) = await ReceiveUncommittedAsync(write, content, expectedStudyUid, channel, callingAeTitle, cancellation);
            if (received is null)
            {
                return (null, failure);
            }

            handedOver = true;
            return (new PendingInstance(CommitAsync(write, received, cancellation)), null);
        }
        finally
        {
            if (!handedOver)
            {
                await write.DisposeAsync();
            }
        }
    }

    private async Task<StoredInstance> CommitAsync(IBlobWrite write, StoredInstance received, CancellationToken cancellation)
    {
        await using (write)
        {
            var blob = await CommitAtPlacementAsync(write, received.StudyInstanceUid, cancellation);
            return received with { Blob = new BlobRef(blob.Sha256, blob.Sha1, blob.Length) };
        }
    }

    private async Task<BlobReference> CommitAtPlacementAsync(IBlobWrite write, string studyInstanceUid, CancellationToken cancellation)
    {
        if (locations is null || placement is null || locations.All.Count == 1
            || await placement.LocationOfAsync(studyInstanceUid, cancellation) is not { } location
            || location == locations.Local || locations.StoreAt(location) is not { } store)
        {
            return await write.CommitAsync(cancellation);
        }

        await using var placed = store.BeginWrite();
        await using (var written = await write.OpenWrittenAsync(cancellation))
        {
            await written.CopyToAsync(placed.Content, cancellation);
        }

        return await placed.CommitAsync(cancellation);
    }

    private async Task<(StoredInstance? Instance, ReceiveFailure? Failure)> ReceiveUncommittedAsync(
        IBlobWrite write, Stream content, string? expectedStudyUid, IngestChannel channel, string? callingAeTitle, CancellationToken cancellation)
    {
        var limits = options.Value;
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await ReadUploadAsync(content, buffer, cancellation)) > 0)
        {
            total += read;
            if (total > limits.MaxInstanceBytes)
            {
                return (null, new ReceiveFailure(ReceiveFailure.OutOfResources, $"The instance exceeds {limits.MaxInstanceBytes} bytes.", null, null));
            }

            await write.Content.WriteAsync(buffer.AsMemory(0, read), cancellation);
        }

        DicomFile file;
        await using (var written = await write.OpenWrittenAsync(cancellation))
        {
            try
            {
                file = DicomReader.Read(written, DicomReadOptions.Streaming);
            }
            catch (DicomFormatException e)
            {
                return (null, new ReceiveFailure(ReceiveFailure.CannotUnderstand, $"Not a readable DICOM instance: {e.Message}", null, null));
            }
        }

        var dataset = file.Dataset;
        var sopClass = Uid(dataset, DicomTag.SOPClassUID) ?? Uid(file.Meta, DicomTag.MediaStorageSOPClassUID);
        var sopInstance = Uid(dataset, DicomTag.SOPInstanceUID) ?? Uid(file.Meta, DicomTag.MediaStorageSOPInstanceUID);
        var study = Uid(dataset, DicomTag.StudyInstanceUID);
        var series = Uid(dataset, DicomTag.SeriesInstanceUID);

        var missing = new List<string>();
        if (!DicomUid.IsValid(sopClass)) missing.Add("SOPClassUID (0008,0016)");
        if (!DicomUid.IsValid(sopInstance)) missing.Add("SOPInstanceUID (0008,0018)");
        if (!DicomUid.IsValid(study)) missing.Add("StudyInstanceUID (0020,000D)");
        if (!DicomUid.IsValid(series)) missing.Add("SeriesInstanceUID (0020,000E)");
        if (missing.Count > 0)
        {
            return (null, new ReceiveFailure(ReceiveFailure.CannotUnderstand, $"Missing or invalid: {string.Join(", ", missing)}.", sopClass, sopInstance));
        }

        if (expectedStudyUid is not null && expectedStudyUid != study)
        {
            return (null, new ReceiveFailure(ReceiveFailure.DataSetDoesNotMatch,
                $"The instance belongs to study {study}, not to {expectedStudyUid} named in the request.", sopClass, sopInstance));
        }

        var header = HeaderJson(dataset, limits.HeaderBulkDataThreshold);
        var transferSyntax = file.Meta.GetString(DicomTag.TransferSyntaxUID)?.TrimEnd('\0', ' ') ?? file.TransferSyntax.Uid;
        var stationName = dataset.GetString(StationNameTag)?.Trim();

        // The blob reference is filled in by the commit (its hashes are final only then).
        return (new StoredInstance(
            study!, series!, sopInstance!, sopClass!, transferSyntax, header,
            new BlobRef("", "", total), channel, callingAeTitle,
            string.IsNullOrEmpty(stationName) ? null : stationName), null);
    }

    /// <summary>The DICOM JSON of the header, written as UTF-8 and parsed once (no string in between).</summary>
    internal static JsonElement HeaderJson(DicomDataset dataset, int bulkDataThreshold)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true, MaxDepth = DicomJsonWriter.MaxJsonDepth, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            DicomJsonWriter.Write(writer, dataset, new DicomJsonOptions { BulkDataThreshold = bulkDataThreshold });
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static readonly DicomTag StationNameTag = new(0x0008, 0x1010);

    /// <summary>Failures reading the upload itself (a malformed multipart body, a connection that ended early) are the client's; failures of our disk are not.</summary>
    private static async ValueTask<int> ReadUploadAsync(Stream content, byte[] buffer, CancellationToken cancellation)
    {
        try
        {
            return await content.ReadAsync(buffer, cancellation);
        }
        catch (Exception e) when (e is IOException or InvalidDataException && e is not UploadStreamException && !cancellation.IsCancellationRequested)
        {
            throw new UploadStreamException(e);
        }
    }

    private static string? Uid(DicomDataset dataset, DicomTag tag)
    {
        try
        {
            return dataset.GetString(tag)?.TrimEnd('\0', ' ');
        }
        catch (DicomFormatException)
        {
            return null;
        }
    }
}
