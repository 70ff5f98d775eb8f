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
/// (streaming mode: pixel data and large values are passed over, never loaded; a small instance from a
/// copy kept in memory as it is written, a large one from its temporary file), validated, and only then
/// committed. A part that fails leaves nothing behind. The caller then sends <c>StoreInstance</c> with the
/// result: the blob is durable before any event names it.
/// </summary>
/// <remarks>
/// Received, validated, not yet committed: commit it, with the request's other parts, through
/// <see cref="InstanceReceiver.CommitAsync"/>, and record it only after that returned. Disposing it
/// removes its temporary file when it was not committed (a request that fails before its commit).
/// </remarks>
public sealed class PendingInstance(IBlobWrite write, StoredInstance received) : IAsyncDisposable
{
    internal IBlobWrite Write => write;

    internal StoredInstance Received => received;

    public string SopClassUid => received.SopClassUid;

    public string SopInstanceUid => received.SopInstanceUid;

    public ValueTask DisposeAsync() => write.DisposeAsync();
}

/// <remarks>
/// With <paramref name="locations"/> and <paramref name="placement"/> (the service passes both), an
/// instance of a relocated study is committed at the study's location: written to the local medium's
/// temporary file as always (streamed, hashed), then copied into the study's store when it commits.
/// </remarks>
public sealed class InstanceReceiver(
    IBlobStore blobs, IOptions<IngestionOptions> options, IBlobLocations? locations = null, IStudyPlacement? placement = null)
{
    /// <summary>An instance up to this size is parsed from a copy kept in memory while it is written, not read back from its file.</summary>
    private const int InMemoryParseLimit = 1024 * 1024;

    /// <summary>Receives one instance and commits its blob: when this returns an instance, its blob is durable.</summary>
    public async Task<(StoredInstance? Instance, ReceiveFailure? Failure)> ReceiveAsync(
        Stream content, string? expectedStudyUid, IngestChannel channel, string? callingAeTitle, CancellationToken cancellation)
    {
        var (pending, failure) = await ReceivePendingAsync(content, expectedStudyUid, channel, callingAeTitle, cancellation);
        if (pending is null)
        {
            return (null, failure);
        }

        await using (pending)
        {
            var (instance, commitFailure) = (await CommitAsync([pending], cancellation))[0];
            return (instance ?? throw commitFailure!, null);
        }
    }

    /// <summary>
    /// Receives and validates one instance without committing its blob, so that a caller with more parts
    /// commits them together (<see cref="CommitAsync"/>): the durable step's cost is paid once per request.
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
            return (new PendingInstance(write, received), null);
        }
        finally
        {
            if (!handedOver)
            {
                await write.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Commits the pending instances' blobs together (the local medium's group commit; an instance of a
    /// relocated study at its study's location) and returns them with their blob references, in order, or
    /// the I/O failure that kept one from being committed. An instance returned is durable and may be
    /// recorded; when this throws, none may be. The pending instances are not disposed here.
    /// </summary>
    public async Task<IReadOnlyList<(StoredInstance? Instance, IOException? Failure)>> CommitAsync(
        IReadOnlyList<PendingInstance> pending, CancellationToken cancellation)
    {
        var outcomes = new BlobCommit[pending.Count];
        var local = new List<int>(pending.Count);
        var stores = new Dictionary<string, IBlobStore?>(StringComparer.Ordinal);
        for (var i = 0; i < pending.Count; i++)
        {
            var study = pending[i].Received.StudyInstanceUid;
            if (!stores.TryGetValue(study, out var store))
            {
                stores[study] = store = await RelocatedStoreAsync(study, cancellation);
            }

            if (store is null)
            {
                local.Add(i);
            }
            else
            {
                outcomes[i] = await CommitAtAsync(store, pending[i].Write, cancellation);
            }
        }

        var committed = await blobs.CommitAllAsync([.. local.Select(i => pending[i].Write)], cancellation);
        for (var i = 0; i < local.Count; i++)
        {
            outcomes[local[i]] = committed[i];
        }

        return [.. pending.Select((part, i) => outcomes[i].Blob is { } blob
            ? (part.Received with { Blob = new BlobRef(blob.Sha256, blob.Sha1, blob.Length) }, (IOException?)null)
            : ((StoredInstance?)null, outcomes[i].Failure))];
    }

    /// <summary>The store of the study's location when that is not the local medium; null for the local medium.</summary>
    private async Task<IBlobStore?> RelocatedStoreAsync(string studyInstanceUid, CancellationToken cancellation) =>
        locations is null || placement is null || locations.All.Count == 1
            || await placement.LocationOfAsync(studyInstanceUid, cancellation) is not { } location
            || location == locations.Local
            ? null
            : locations.StoreAt(location);

    private static async Task<BlobCommit> CommitAtAsync(IBlobStore store, IBlobWrite write, CancellationToken cancellation)
    {
        try
        {
            await using var placed = store.BeginWrite();
            await using (var written = await write.OpenWrittenAsync(cancellation))
            {
                await written.CopyToAsync(placed.Content, cancellation);
            }

            return new BlobCommit(await placed.CommitAsync(cancellation), null);
        }
        catch (IOException e)
        {
            return new BlobCommit(null, e);
        }
    }

    private async Task<(StoredInstance? Instance, ReceiveFailure? Failure)> ReceiveUncommittedAsync(
        IBlobWrite write, Stream content, string? expectedStudyUid, IngestChannel channel, string? callingAeTitle, CancellationToken cancellation)
    {
        var limits = options.Value;
        var pool = ArrayPool<byte>.Shared;
        var buffer = pool.Rent(128 * 1024); // holds the whole instance while it fits (InMemoryParseLimit), grown as it arrives
        var filled = 0; // bytes of the instance in buffer; -1 once it no longer fits and is read back from its file
        try
        {
            long total = 0;
            int read;
            while ((read = await ReadUploadAsync(content, buffer.AsMemory(Math.Max(filled, 0)), cancellation)) > 0)
            {
                total += read;
                if (total > limits.MaxInstanceBytes)
                {
                    return (null, new ReceiveFailure(ReceiveFailure.OutOfResources, $"The instance exceeds {limits.MaxInstanceBytes} bytes.", null, null));
                }

                var start = Math.Max(filled, 0);
                await write.Content.WriteAsync(buffer.AsMemory(start, read), cancellation);
                if (filled < 0)
                {
                    continue;
                }

                filled += read;
                if (buffer.Length - filled < 16 * 1024)
                {
                    if (buffer.Length * 2 > InMemoryParseLimit)
                    {
                        filled = -1; // from here on the buffer only carries the upload to the file
                        continue;
                    }

                    var larger = pool.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    pool.Return(buffer);
                    buffer = larger;
                }
            }

            // The dataset may point into the buffer: everything taken from it before the buffer goes back to the pool.
            var (file, error) = await ParseAsync(write, buffer, filled, cancellation);
            return file is null
                ? (null, new ReceiveFailure(ReceiveFailure.CannotUnderstand, $"Not a readable DICOM instance: {error}", null, null))
                : Received(file, total, expectedStudyUid, channel, callingAeTitle, limits);
        }
        finally
        {
            pool.Return(buffer);
        }
    }

    /// <summary>The header, from the in-memory copy when the instance fitted (<paramref name="filled"/> at least 0), else from its temporary file.</summary>
    private static async Task<(DicomFile? File, string? Error)> ParseAsync(IBlobWrite write, byte[] buffer, int filled, CancellationToken cancellation)
    {
        try
        {
            if (filled >= 0)
            {
                return (DicomReader.Read(buffer.AsMemory(0, filled), DicomReadOptions.Streaming), null);
            }

            await using var written = await write.OpenWrittenAsync(cancellation);
            return (DicomReader.Read(written, DicomReadOptions.Streaming), null);
        }
        catch (DicomFormatException e)
        {
            return (null, e.Message);
        }
    }

    private static (StoredInstance? Instance, ReceiveFailure? Failure) Received(
        DicomFile file, long total, string? expectedStudyUid, IngestChannel channel, string? callingAeTitle, IngestionOptions limits)
    {
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

        using var document = JsonDocument.Parse(buffer.WrittenMemory, DicomJsonWriter.DocumentOptions);
        return document.RootElement.Clone();
    }

    private static readonly DicomTag StationNameTag = new(0x0008, 0x1010);

    /// <summary>Failures reading the upload itself (a malformed multipart body, a connection that ended early) are the client's; failures of our disk are not.</summary>
    private static async ValueTask<int> ReadUploadAsync(Stream content, Memory<byte> buffer, CancellationToken cancellation)
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
