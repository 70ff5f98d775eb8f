using EventSourced.Application.Ingestion;
using EventSourced.Application.Ingestion.ReceivingInstances;
using EventSourced.Application.Ingestion.StoringInstances;
using EventSourced.Dicom;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Security;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Part of <see cref="StartupWarmUp"/>: runs the STOW-RS path once before readiness, so that a fresh server's first
/// STOW is not the one that compiles it. Before this, the first STOW of a fresh server took 700–820 ms against 13–30 ms
/// for the next ones, about 1,500 methods compiled after readiness (800 ms of JIT: the handler, the decisions, Marten's
/// loads, append and inline projections, their async state machines), and every STOW that arrived meanwhile waited
/// (docs/benchmarks.md, "STOW warm-up: the write path run once before readiness").
/// <para>
/// The endpoint runs through its own request delegate (parsing the multipart body, receiving and parsing each instance,
/// writing its file, the answer) for two studies of a patient, with three replacements in place of the service's parts:
/// the files go to a blob store of its own in a temporary folder (deleted after); the command that the module sends
/// runs the application's handler on a session of a transaction that is rolled back (the handler's loads, the append,
/// every inline projection, against the live schema); and the caller is a tenant no credential can name. No event,
/// stream, document, blob or message remains; the event sequence's numbers taken by the rolled-back appends are a gap,
/// as any rolled-back write leaves one, which the feed's daemon passes after <c>EventStore:DaemonStaleSequenceThreshold</c>.
/// </para>
/// </summary>
public static class StowWarmUp
{
    /// <summary>Not a tenant: tenant ids are issued by the tenant commands, which never issue one with spaces.</summary>
    private const string Tenant = "start-up stow warm-up";

    private const string Boundary = "start-up-warm-up";

    /// <summary>Runs STOW-RS for two studies; returns how many answered 200.</summary>
    public static async Task<int> RunAsync(IServiceProvider services, CancellationToken cancellation)
    {
        var endpoint = WarmUpRequest.NamedEndpoints(services).FirstOrDefault(e => e.Name == "StowStudies").Endpoint;
        if (endpoint is null)
        {
            return 0;
        }

        using var folder = new WarmUpRequest.Folder();
        var store = services.GetRequiredService<IDocumentStore>();
        await using var connection = await services.GetRequiredService<Npgsql.NpgsqlDataSource>().OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var bus = RolledBackBus.Over(services, store, transaction);
        var ingestor = new InstanceIngestor(new InstanceReceiver(new Blobs.LocalDiskBlobStore(folder.Path), services.GetRequiredService<IOptions<IngestionOptions>>()), bus);
        var caller = Principal.Create("warm-up", Tenant, "warm-up", [Scopes.StudiesWrite]);
        var answered = 0;
        for (var study = 1; study <= 2; study++)
        {
            var body = Body(study);
            answered += await WarmUpRequest.InvokeAsync(services, endpoint, caller, request =>
            {
                request.Method = HttpMethods.Post;
                request.Path = "/dicomweb/studies";
                request.ContentType = $"multipart/related; type=\"application/dicom\"; boundary={Boundary}";
                request.ContentLength = body.Length;
                request.Body = new MemoryStream(body, writable: false);
                request.Headers.Accept = "application/dicom+json";
            }, cancellation, scoped => new Overrides(scoped, ingestor)) == StatusCodes.Status200OK ? 1 : 0;
        }

        await transaction.RollbackAsync(cancellation);
        return answered;
    }

    /// <summary>A study of two series of two instances each, of one patient, as a STOW-RS body.</summary>
    private static byte[] Body(int study)
    {
        var body = new MemoryStream();
        for (var series = 1; series <= 2; series++)
        {
            for (var instance = 1; instance <= 2; instance++)
            {
                body.Write(System.Text.Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Type: application/dicom\r\n\r\n"));
                body.Write(Instance(study, series, instance));
                body.Write("\r\n"u8);
            }
        }

        body.Write(System.Text.Encoding.ASCII.GetBytes($"--{Boundary}--\r\n"));
        return body.ToArray();
    }

    /// <summary>A small CT image with the attributes the read models index (UIDs under 2.25, never committed).</summary>
    private static byte[] Instance(int study, int series, int instance)
    {
        var ds = new DicomDataset();
        void Text(DicomTag tag, DicomVR vr, string value) => ds.AddString(tag, vr, value);
        Text(DicomTags.SpecificCharacterSet, DicomVR.CS, "ISO_IR 100");
        Text(DicomTags.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.2");
        Text(DicomTags.SOPInstanceUID, DicomVR.UI, $"2.25.7.{study}.{series}.{instance}");
        Text(DicomTags.StudyDate, DicomVR.DA, "20000102");
        Text(DicomTags.AccessionNumber, DicomVR.SH, $"WARM-UP-{study}");
        Text(DicomTags.Modality, DicomVR.CS, "CT");
        Text(DicomTags.StationName, DicomVR.SH, "WARM-UP");
        Text(DicomTags.PatientName, DicomVR.PN, "WARM^UP");
        Text(DicomTags.PatientID, DicomVR.LO, "WARM-UP");
        Text(DicomTags.StudyInstanceUID, DicomVR.UI, $"2.25.7.{study}");
        Text(DicomTags.SeriesInstanceUID, DicomVR.UI, $"2.25.7.{study}.{series}");
        Text(DicomTags.SeriesNumber, DicomVR.IS, $"{series}");
        Text(DicomTags.InstanceNumber, DicomVR.IS, $"{instance}");
        Text(DicomTags.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2");
        foreach (var (tag, value) in new[] { (DicomTags.SamplesPerPixel, 1), (DicomTags.Rows, 8), (DicomTags.Columns, 8), (DicomTags.BitsAllocated, 16), (DicomTags.BitsStored, 12), (DicomTags.HighBit, 11), (DicomTags.PixelRepresentation, 0) })
        {
            ds.Set(new DicomElement(tag, DicomVR.US, DicomValues.EncodeBinary<ushort>([(ushort)value])));
        }

        ds.Set(new DicomElement(DicomTag.PixelData, DicomVR.OW, DicomValues.EncodeBinary<ushort>(new ushort[64])));
        return DicomWriter.ToBytes(new DicomFile(new DicomDataset(), ds, DicomTransferSyntax.ExplicitVRLittleEndian));
    }

    /// <summary>The request's services, with the warm-up's ingestor (its own blob store, the rolled-back bus) in place of the service's.</summary>
    private sealed class Overrides(IServiceProvider services, InstanceIngestor ingestor) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(InstanceIngestor) ? ingestor : services.GetService(serviceType);
    }

    /// <summary>
    /// A message bus that runs <see cref="StoreInstances"/> as Wolverine's generated handler does (the handler, then the
    /// session's changes saved), on a session of the warm-up's transaction, which Marten neither commits nor rolls back.
    /// Any other message is refused: the STOW path sends no other.
    /// </summary>
    public class RolledBackBus : System.Reflection.DispatchProxy
    {
        private IServiceProvider services = null!;
        private IDocumentStore store = null!;
        private Npgsql.NpgsqlTransaction transaction = null!;

        public static IMessageBus Over(IServiceProvider services, IDocumentStore store, Npgsql.NpgsqlTransaction transaction)
        {
            var proxy = Create<IMessageBus, RolledBackBus>();
            var bus = (RolledBackBus)(object)proxy;
            (bus.services, bus.store, bus.transaction) = (services, store, transaction);
            return proxy;
        }

        protected override object? Invoke(System.Reflection.MethodInfo? method, object?[]? args) =>
            method is { Name: nameof(IMessageBus.InvokeForTenantAsync), IsGenericMethod: true } && args is [string tenant, StoreInstances command, CancellationToken cancellation, ..]
                ? StoreAsync(tenant, command, cancellation)
                : throw new InvalidOperationException($"The STOW warm-up's bus runs {nameof(StoreInstances)} only, not {method?.Name}.");

        private async Task<StoreInstancesResponse> StoreAsync(string tenant, StoreInstances command, CancellationToken cancellation)
        {
            var options = Marten.Services.SessionOptions.ForTransaction(transaction);
            options.TenantId = tenant;
            await using var session = store.LightweightSession(options);
            // Caches of its own: the warm-up's transaction is rolled back, so what it stored must not be kept for the service.
            var ingestion = services.GetRequiredService<IOptions<IngestionOptions>>();
            var response = await StoreInstancesHandler.Handle(
                command, session, ingestion, new StudyWriteCache(ingestion), new Application.Patients.PatientWriteCache(ingestion), new Application.Orders.RecordingImages.OrderWriteCache(ingestion), services.GetRequiredService<TimeProvider>(), cancellation);
            await session.SaveChangesAsync(cancellation);
            return response;
        }
    }
}
