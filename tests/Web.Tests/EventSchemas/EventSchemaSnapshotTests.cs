using System.Runtime.CompilerServices;
using System.Text.Json;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Access;
using EventSourced.Domain.Common;
using EventSourced.Domain.Corrections;
using EventSourced.Domain.Forwarding;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Reports;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventSourced.Web.Tests.EventSchemas;

/// <summary>
/// Stored events are forever: their type alias (the <c>type</c> column) and JSON shape are pinned by the
/// snapshots beside this file. A rename or reshaped property fails here; an intended change needs a new
/// snapshot and, for events already stored, an upcaster. Regenerate with EVENTSOURCED_UPDATE_SNAPSHOTS=1.
/// </summary>
public sealed class EventSchemaSnapshotTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private static readonly DateTimeOffset At = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly Guid Id = new("0190a6f0-1111-7222-8333-444455556666");
    private static readonly Actor By = new("subject", "pacs-api");
    private static readonly PatientDemographics Patient = new("P1", "ISSUER", "DOE^JANE", "19700101", "F");

    public static TheoryData<string> EventTypes() => [.. Samples().Keys];

    private static Dictionary<string, object> Samples()
    {
        var details = new OrderDetails
        {
            PatientId = "P1", PatientName = "DOE^JANE", StudyInstanceUid = "1.2.3", AccessionNumber = "A1", Modality = "CT",
            ScheduledStationAETitle = "CT1", ScheduledProcedureStepDescription = "Chest", ScheduledProcedureStepStartDate = "20260102",
            ScheduledProcedureStepStartTime = "0304", PatientSex = "F",
        };
        var metadata = new Dictionary<string, JsonElement> { ["PatientBirthDate"] = JsonSerializer.SerializeToElement("19700101") };
        var instance = new StoredInstance(
            "1.2.3", "1.2.3.4", "1.2.3.4.5", "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1",
            JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["00100020"] = new { vr = "LO", Value = new[] { "P1" } } }),
            new BlobRef(new string('a', 64), new string('b', 40), 1234), IngestChannel.StowRs, "CT1", "STATION1");
        var report = new ReportContent(
            new BlobRef(new string('c', 64), new string('d', 40), 2048), "application/dicom", ReportFormat.DicomStructuredReport,
            "1.2.840.10008.5.1.4.1.1.88.11", "1.2.3.4.6");
        object[] events =
        [
            new OrderCreated(Id, details, ["PatientBirthDate"], At.AddMinutes(15), By, At),
            new OrderMetadataAdded(Id, metadata, By, At),
            new OrderFailed(Id, OrderFailureReason.MetadataDeadlineExpired, "detail", ["PatientBirthDate"], Actor.System("metadata-deadline"), At),
            new OrderDeleted(Id, By, At),
            new OrderBookedForStudy(Id, "1.2.3", Id, At),
            new StudyOrderReleased(Id, "1.2.3", Id, OrderStatus.Failed, At),
            new StudyImagesArrived(Id, "1.2.3", ["PatientBirthDate", "PatientSex"], At),
            new OrderImagesArrived(Id, "1.2.3", ["1.2.3.4.5"], ["PatientSex"], By, At),
            new OrderProcedureStepStarted(Id, "1.2.3.9", By, At),
            new OrderProcedureStepCompleted(Id, By, At),
            new OrderProcedureStepCanceled(Id, "Patient left", By, At),
            new OrderCancellationRequested(Id, "Patient left", By, At),
            new WorkitemUidClaimed(Id, "1.2.3.9", Id, At),
            new TenantRegistered(Id, "t1", "Tenant one", By, At),
            new ApiKeyIssued(Id, "t1", "0123456789abcdef", "hash", "subject", [Scopes.OrdersRead], By, At),
            new ApiKeyRevoked(Id, "t1", "0123456789abcdef", By, At),
            new OAuthClientRegistered(Id, "t1", "t1.0123456789abcdef", "hash", [Scopes.OrdersRead], By, At),
            new OAuthClientRevoked(Id, "t1", "t1.0123456789abcdef", By, At),
            new ArchiveUserRegistered(Id, "t1", "user1", "pbkdf2-sha256$600000$c2FsdA==$aGFzaA==", [Scopes.Archive.GetPatient], By, At),
            new InstanceStored(Id, instance, By, At) { FiledIn = new InstanceFiling("project", "archive", "P1") },
            new InstancesStored(Id, [instance, instance with { SopInstanceUid = "1.2.3.4.6", Blob = instance.Blob with { Sha256 = new string('c', 64) } }], By, At)
            {
                FiledIn = new InstanceFiling("project", "archive", "P1"),
            },
            new InstanceReplaced(Id, instance, new string('0', 64), By, At),
            new InstanceFiledInArchive(Id, "project", "archive", "P1", "1.2.3", "1.2.3.4", "1.2.3.4.5", "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", By, At),
            new StudyDeprecationStarted(Id, Id, "1.2.3", "1.2.3.4", "JaneDoe", "Wrong series", By, At),
            new StudyDeprecationCompleted(Id, Id, "1.2.3.9", [new InstanceHidden(Id, "1.2.3.4", "1.2.3.4.5")],
                [new ArchiveFilingHidden(Id, "project", "archive", "1.2.3.4", "1.2.3.4.5", true)], At),
            new StudyDeprecationRevoked(Id, Id, "JaneDoe", "Mistake", [new InstanceStored(Id, instance, By, At)],
                [new InstanceFiledInArchive(Id, "project", "archive", "P1", "1.2.3", "1.2.3.4", "1.2.3.4.5", "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", By, At)],
                [new InstanceHidden(Id, "1.2.3.8", "1.2.3.9")], [], By, At),
            new KeyObjectSelectionCreated(Id, "1.2.3", "1.2.3.8", "1.2.3.9", "113030", 4, "NGV", By, At),
            new StudyContentDeleted(Id, Id, "1.2.3", "project", "archive", "1.2.3.4",
                [new ArchiveFilingHidden(Id, "project", "archive", "1.2.3.4", "1.2.3.4.5", true)], [new InstanceHidden(Id, "1.2.3.4", "1.2.3.4.5")],
                ["1.2.3.4"], "document d series/delete", new Actor("subject", "archive-api"), At, At.AddDays(30)),
            new DeletedContentRestored(Id, Id, [new InstanceStored(Id, instance, By, At)],
                [new InstanceFiledInArchive(Id, "project", "archive", "P1", "1.2.3", "1.2.3.4", "1.2.3.4.5", "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", By, At)],
                "restore of a document d delete", new Actor("subject", "archive-api"), At),
            new DeletedContentPurged(Id, Id, [new string('a', 64)], Actor.System("deletion"), At),
            new SeriesRefiledOut(Id, "1.2.3", "1.2.4", ["1.2.3.4"], [new InstanceHidden(Id, "1.2.3.4", "1.2.3.4.5")],
                [new ArchiveFilingHidden(Id, "default", "default", "1.2.3.4", "1.2.3.4.5", true)], SeriesRefilingReason.Reconciled, Id, By, At),
            new SeriesRefiledIn(Id, "1.2.4", "1.2.3", ["1.2.3.4"],
                JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["0020000D"] = new { vr = "UI", Value = new[] { "1.2.4" } } }), Patient,
                [new InstanceRefiled(Id, instance with { StudyInstanceUid = "1.2.4" }, "1.2.3", At)],
                [new InstanceFiledInArchive(Id, "default", "default", "P1", "1.2.4", "1.2.3.4", "1.2.3.4.5", "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", By, At)],
                SeriesRefilingReason.Reconciled, Id, By, At),
            new StudyRelocated(Id, "1.2.3", new StorageLocation(StorageKind.PhysicalMedium, "local"), new StorageLocation(StorageKind.Bucket, "online-bucket"), 3, "JaneDoe", By, At),
            new SeriesResultRecorded(Id, "project", "archive", "1.2.3", "1.2.3.4", ArchiveResultTypes.Cad4tb, "CAD4TB 5", "CAD4TB",
                JsonSerializer.SerializeToElement(12.345), new BlobRef(new string('c', 64), new string('d', 40), 10), "heatmap.png", By, At),
            new SeriesFormSubmitted(Id, Id, "project", "archive", "1.2.3", "1.2.3.4", "Retina grading",
                """{"grade":"R1"}""", By, At),
            new ReportDelivered(Id, Id, "1.2.3", "summary", 2, Id, report, new Actor("producer", "reports-api"), At),
            new ReportsAcknowledged(Id, [new AcknowledgedReport(Id, "summary")], new Actor("consumer", "reports-api"), At),
            new OrderAddedToStudyGroup(Id, "group one", Id, "1.2.3", By, At),
            new StudyGroupReportDelivered(Id, "group one", Id, "summary", 1, null, report, new Actor("producer", "reports-api"), At),
            new StudyGroupReportsAcknowledged(Id, "group one", [new AcknowledgedReport(Id, "summary")], new Actor("consumer", "reports-api"), At),
            new ReportsServedToPoller(Id, [Id], true, new Actor("consumer", "reports-api"), At),
            new UploadUrlIssued(Id, "0123456789abcdef", At.AddMinutes(15), By, At),
            new UploadUrlConsumed(Id, "1.2.3", "1.2.3.4", "1.2.3.4.5", By, At),
            new ViewerTokenIssued(Id, "1.2.3", "P1", "dr.who", "patient", At.AddHours(1), By, At),
            new ViewerTokenUsed(Id, "1.2.3", "GET /dicomweb/studies/1.2.3/metadata", new Actor("dr.who", "viewer-token"), At),
            new NewExamCallbackReceived(Id, new NewExamNotification
            {
                SourceID = "O3PROD", StudyInstanceUID = "1.2.3", AccessionNumber = "A1", PatientID = "P1", NumberOfStudyRelatedSeries = 1,
                NumberOfStudyRelatedInstances = 2, ModalitiesInStudy = ["CT"], AeTitles = ["AE1"], StationNames = ["S1", "S2"], EventType = "COMPLETED",
                StudyDate = "20260102", StudyTime = "030405", StudyID = null, ReferringPhysicianName = "DOC^JOHN", StudyDescription = "Chest",
                PatientName = "DOE^JANE", PatientBirthDate = "19700101", PatientSex = "F",
            }, ["http://127.0.0.1:9/callback"], By, At),
            new PatientRegistered(Id, Patient, PatientOrigin.Created, By, At),
            new PatientDemographicsUpdated(Id, Patient with { PatientName = "DOE^JOAN" }, Patient, "operator", By, At),
            new PatientStudyLinked(Id, "1.2.3", Id, By, At),
            new PatientStudyUnlinked(Id, "1.2.3", Id, By, At),
            new PatientMerged(Id, Id, Patient, Id, "operator", By, At),
            new PatientMergeUndone(Id, Id, By, At),
            new StudyPatientAssigned(Id, "1.2.3", Patient, null, StudyPatientChangeReason.PatientMerged, Id, By, At),
            new CorrectionRecorded(Id, CorrectionKind.PatientMerge, [new StudyPatientChange("1.2.3", null, Patient, Id, Id)], Id, "user", "operator", By, At)
            {
                SeriesMoves = [new SeriesMove("1.2.3", "1.2.4", ["1.2.3.4"], Id)],
            },
            new CorrectionUndone(Id, "user", By, At),
            new OrderPatientDemographicsUpdated(Id, Patient, By, At),
            new SlideFileStored(Id, "1.2.3", "1.2.3.4", "1.2.3.4.5", "I23-00102-A-1-1",
                new SlideFile("CMU-1.mrxs", SlideFileKind.Mirax, new BlobRef(new string('e', 64), new string('f', 40), 123456), "CMU-1.mrxs", new string('9', 40)),
                IngestChannel.PathologyUpload, "SCANNER1", By, At),
            new ForwardRequested(Id, ForwardKind.Series, "1.2.3.4", [new ForwardedSeries("1.2.3", "1.2.3.4")], "to-peer", "http://peer/dicom-web", "john", By, At),
            new SeriesForwarded(Id, 2, [new ForwardedSeries("1.2.3", "1.2.3.4")], 5, 2_621_440, Actor.System("forwarding"), At),
            new ForwardFailed(Id, 1, [new ForwardedSeries("1.2.3", "1.2.3.4")], "http://peer/dicom-web answered 503 Service Unavailable.", At.AddSeconds(30),
                Actor.System("forwarding"), At),
            new ForwardRetried(Id, 7, [new ForwardedSeries("1.2.3", "1.2.3.4")], By, At),
            new PatientErased(Id, Id, ["1.2.3"], [Id], 4, "GDPR art. 17", By, At),
            new OrderPatientErased(Id, Id, By, At),
            new ReportContentErased(Id, [Id], ["summary"], Id, By, At),
            new InstanceErased(Id, instance, new string('0', 64), [new ArchivePlacement("project", "archive")], Id, By, At),
        ];
        return events.ToDictionary(e => e.GetType().Name);
    }

    [Theory]
    [MemberData(nameof(EventTypes))]
    public async Task Every_event_keeps_its_stored_alias_and_JSON_shape(string eventType)
    {
        // Store the sample and read back exactly what the database holds: the type column and the jsonb data.
        var streamId = await AppendSampleAsync(eventType, "schema-tests");

        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select type, data::text from eventsourced.mt_events where stream_id = @id", connection);
        command.Parameters.AddWithValue("id", streamId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var json = JsonSerializer.Serialize(JsonDocument.Parse(reader.GetString(1)).RootElement, new JsonSerializerOptions { WriteIndented = true });
        var actual = $"alias: {reader.GetString(0)}\n{json}\n";

        var path = Path.Combine(SourceDirectory(), $"{eventType}.snapshot.txt");
        if (Environment.GetEnvironmentVariable("EVENTSOURCED_UPDATE_SNAPSHOTS") == "1")
        {
            File.WriteAllText(path, actual);
        }

        Assert.True(File.Exists(path), $"No snapshot for {eventType}: run with EVENTSOURCED_UPDATE_SNAPSHOTS=1 and review {path}.");
        Assert.Equal(File.ReadAllText(path), actual);
    }

    /// <summary>
    /// The index the blob sweeper, erasures and relocations ask "which events name this blob" through
    /// (<see cref="EventSourced.Application.Blobs.EventBlobNames"/>) finds the stored event by every hash its data carries
    /// anywhere (any 64-digit hex run in its text, as the text search before the index found it), but a purge's released
    /// hashes, which its stream's earlier events name. An event type that carried a hash elsewhere fails here.
    /// </summary>
    [Theory]
    [MemberData(nameof(EventTypes))]
    public async Task Every_hash_an_event_carries_is_found_through_the_blob_names_index(string eventType)
    {
        var streamId = await AppendSampleAsync(eventType, "blob-names");

        var dataSource = fixture.App.Services.GetRequiredService<NpgsqlDataSource>();
        Assert.True(await EventSourced.Web.Infrastructure.EventLogIndexes.ApplyAsync(dataSource, "eventsourced", NullLogger.Instance, CancellationToken.None));
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        var carried = new List<string>();
        await using (var command = new NpgsqlCommand(
            "select distinct m[1] from eventsourced.mt_events e, regexp_matches((e.data #- '{ReleasedBlobs}')::text, '[0-9a-f]{64}', 'g') as m where e.stream_id = @id", connection))
        {
            command.Parameters.AddWithValue("id", streamId);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                carried.Add(reader.GetString(0));
            }
        }

        // Through the index only: with sequential scans off, a hash the index misses finds no event.
        await using (var off = new NpgsqlCommand("set enable_seqscan = off", connection))
        {
            await off.ExecuteNonQueryAsync();
        }

        foreach (var sha in carried)
        {
            await using var found = new NpgsqlCommand(
                $"select count(*) from eventsourced.mt_events e where {EventSourced.Application.Blobs.EventBlobNames.Names("e", "@sha")} and e.stream_id = @id", connection);
            found.Parameters.AddWithValue("sha", sha);
            found.Parameters.AddWithValue("id", streamId);
            Assert.True((long)(await found.ExecuteScalarAsync())! == 1, $"{eventType} carries {sha}, which the blob names' index does not find.");
        }

        var hashesExpected = eventType is nameof(InstanceStored) or nameof(InstancesStored) or nameof(InstanceReplaced) or nameof(InstanceErased) or nameof(DeletedContentRestored)
            or nameof(StudyDeprecationRevoked) or nameof(SeriesRefiledIn) or nameof(ReportDelivered) or nameof(StudyGroupReportDelivered)
            or nameof(SlideFileStored) or nameof(SeriesResultRecorded);
        Assert.Equal(hashesExpected, carried.Count > 0);
    }

    /// <summary>The event type's sample appended to a new stream of <paramref name="tenant"/>; the stream's id.</summary>
    private async Task<Guid> AppendSampleAsync(string eventType, string tenant)
    {
        var streamId = Guid.CreateVersion7();
        await using var session = fixture.App.Store.LightweightSession(tenant);
        session.Events.Append(streamId, Samples()[eventType]);
        await session.SaveChangesAsync();
        return streamId;
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
