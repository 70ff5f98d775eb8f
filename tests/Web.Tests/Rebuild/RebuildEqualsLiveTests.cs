using System.Diagnostics;
using System.Net;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Tests.Archive;
using EventSourced.Web.Tests.Studies;
using EventSourced.Web.Tests.Reports;
using EventSourced.Web.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Xunit.Abstractions;
using static EventSourced.Web.Tests.Patients.PatientSupport;

namespace EventSourced.Web.Tests.Rebuild;

/// <summary>Rebuild equals live: every read model, rebuilt from the log into a scratch schema, is the live one.</summary>
public sealed class RebuildEqualsLiveTests(ServiceFixture fixture, ITestOutputHelper output) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_mixed_history_rebuilds_into_exactly_the_live_read_models()
    {
        await RebuildHistory.WriteAsync(fixture.App, "rebuild-a");
        await RebuildHistory.WriteAsync(fixture.App, "rebuild-b");

        // Both shapes of a new instance in the log: a request's instances as one InstancesStored, a lone one as an InstanceStored.
        await using (var connection = new NpgsqlConnection(fixture.ConnectionString))
        {
            await connection.OpenAsync();
            await using var shapes = new NpgsqlCommand(
                "select count(*) filter (where type = 'instances_stored'), count(*) filter (where type = 'instance_stored') " +
                "from eventsourced.mt_events where tenant_id = 'rebuild-a'", connection);
            await using var reader = await shapes.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.True(reader.GetInt64(0) > 0 && reader.GetInt64(1) > 0, $"instances_stored {reader.GetInt64(0)}, instance_stored {reader.GetInt64(1)}");
        }

        var clock = Stopwatch.StartNew();
        var result = await VerifyAsync(fixture.App);
        output.WriteLine($"verify: {result.Tables.Count} tables, {result.Events} events, {result.Differences.Count} differences, {clock.Elapsed.TotalSeconds:F1} s");

        Assert.True(result.Differences.Count == 0, string.Join('\n', result.Differences));
        Assert.True(result.Events > 100, $"{result.Events} events");

        // Every kind of read model is in the comparison: inline single- and multi-stream, async, custom event projections.
        string[] expected =
        [
            "mt_doc_qidostudy", "mt_doc_qidoseries", "mt_doc_qidoinstance", "mt_doc_patientrecord", "mt_doc_ordersummary",
            "mt_doc_orderhistory", "mt_doc_currentreport", "mt_doc_archivestudy",
            "mt_doc_referencedblob", "mt_doc_studyfeedrow", "mt_doc_apikeycredential",
        ];
        Assert.Empty(expected.Except(result.Tables));
        Assert.All(expected, table => Assert.True(result.RebuiltRows[table] > 0, $"{table}: no row rebuilt"));
        await AssertScratchSchemasDroppedAsync(fixture.ConnectionString);
    }

    [Fact]
    public async Task Events_holding_the_header_as_an_object_as_written_before_rebuild_into_the_same_read_models()
    {
        await RebuildHistory.WriteAsync(fixture.App, "rebuild-object-headers");
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        async Task<long> CountAsync(string kind)
        {
            await using var count = new NpgsqlCommand(
                "select count(*) from eventsourced.mt_events where tenant_id = 'rebuild-object-headers' and type = 'instance_stored' " +
                "and jsonb_typeof(data -> 'Instance' -> 'Header') = @kind", connection);
            count.Parameters.AddWithValue("kind", kind);
            return (long)(await count.ExecuteScalarAsync())!;
        }

        // Written now: the header is one string in the log.
        var strings = await CountAsync("string");
        Assert.True(strings > 0, "no instance_stored event");
        Assert.Equal(0L, await CountAsync("object"));

        // As the log held them before: the header an object. The rebuild reads them into the read models the live ones are.
        await using (var rewrite = new NpgsqlCommand(
            "update eventsourced.mt_events set data = jsonb_set(data, '{Instance,Header}', (data -> 'Instance' ->> 'Header')::jsonb) " +
            "where tenant_id = 'rebuild-object-headers' and type = 'instance_stored'", connection))
        {
            await rewrite.ExecuteNonQueryAsync();
        }

        Assert.Equal(strings, await CountAsync("object"));
        var result = await VerifyAsync(fixture.App);
        Assert.True(result.Differences.Count == 0, string.Join('\n', result.Differences));
        Assert.True(result.RebuiltRows["mt_doc_qidoinstance"] > 0);
    }

    internal static Task<ProjectionVerification> VerifyAsync(AppFactory app) => ProjectionVerifier.VerifyAsync(
        app.Services.GetRequiredService<NpgsqlDataSource>(),
        app.Services.GetRequiredService<IOptions<EventStoreOptions>>().Value,
        TimeSpan.FromSeconds(60),
        CancellationToken.None);

    internal static async Task AssertScratchSchemasDroppedAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from information_schema.schemata where schema_name like '%\\_verify\\_%'", connection);
        Assert.Equal(0L, await command.ExecuteScalarAsync());
    }
}

/// <summary>The command exits 1 and names the very cell that was changed behind the projections' back.</summary>
public sealed class RebuildDifferenceTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_tampered_read_model_row_is_reported_cell_by_cell_and_the_command_exits_1()
    {
        var client = await fixture.App.ClientForTenantAsync("tampered");
        var (study, _, _) = await StowStudyAsync(client, "TM-A", "ALPHA^ANN", series: 2);
        var cli = new ServiceProcess(fixture.ConnectionString, fixture.App.BlobRoot);

        var (cleanExit, cleanOutput, cleanError) = await cli.RunCliToExitAsync("projections", "verify");
        Assert.True(cleanExit == 0, cleanOutput + cleanError);
        Assert.Contains("0 difference(s)", cleanOutput);

        await using (var connection = new NpgsqlConnection(fixture.ConnectionString))
        {
            await connection.OpenAsync();
            await using var tamper = new NpgsqlCommand(
                """
                update eventsourced.mt_doc_qidostudy set data = jsonb_set(data, '{StudyDescription}', '"TAMPERED"')
                where tenant_id = 'tampered' and study_instance_uid = @study returning id::text
                """, connection);
            tamper.Parameters.AddWithValue("study", study);
            await using var read = new NpgsqlCommand("select (data->'StudyDescription')::text from eventsourced.mt_doc_qidostudy where study_instance_uid = @study", connection);
            read.Parameters.AddWithValue("study", study);
            var description = (string)(await read.ExecuteScalarAsync())!;
            var id = (string)(await tamper.ExecuteScalarAsync())!;

            var (exit, output, error) = await cli.RunCliToExitAsync("projections", "verify");

            Assert.True(exit == 1, $"exit {exit}: {output}{error}");
            var reported = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var differences = reported.Where(line => line.StartsWith("mt_doc_", StringComparison.Ordinal)).ToList();
            Assert.True(differences.Count == 1, output);
            Assert.Equal($"mt_doc_qidostudy [tampered {id}] data.StudyDescription: live \"TAMPERED\" | rebuilt {description}", differences[0]);
            Assert.Contains("1 difference(s)", output);
        }

        await RebuildEqualsLiveTests.AssertScratchSchemasDroppedAsync(fixture.ConnectionString);
    }
}

/// <summary>A tenant's mixed history through HTTP: every kind of change the read models follow.</summary>
internal static class RebuildHistory
{
    public static async Task WriteAsync(AppFactory app, string tenant)
    {
        var client = await app.ClientForTenantAsync(tenant);

        // Ingest (STOW-RS) and replace: the same SOP instance with other bytes inside the replace window.
        var (a, aSeries, aSops) = await StowStudyAsync(client, "RB-A", "ALPHA^ANN", issuer: "HOSP", series: 2, instancesPerSeries: 2);
        var (b, _, _) = await StowStudyAsync(client, "RB-B", "BETA^BOB");
        var replaced = await client.PostAsync("/dicomweb/studies", Multipart.Related(Instance(a, aSeries[0], aSops[0], "RB-A", "ALPHA^ANN", "HOSP", birthDate: "19800102")));
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);

        // Orders: create, update (document b's add-metadata), a report delivered and acknowledged, another order deleted.
        var orderStudy = Support.Orders.NewStudyUid();
        var orderId = await client.CreateOkAsync(Support.Orders.ExampleBody(orderStudy));
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/add-metadata?order_id={orderId}") { Content = Json.Body("""{"PatientSex":"F"}""", "application/json") };
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(patch)).StatusCode);
        var delivered = await client.PostAsync($"/orders/{orderId}/reports?report_type=summary", ReportFiles.Content(ReportFiles.JsonReport("r1"), "application/json"));
        Assert.Equal(HttpStatusCode.Created, delivered.StatusCode);
        var deletedStudy = Support.Orders.NewStudyUid();
        await client.CreateOkAsync(Support.Orders.ExampleBody(deletedStudy));
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={deletedStudy}")).StatusCode);

        // Patients: merge A into B, move b to a third patient, undo the merge.
        var merge = await OkJsonAsync(await PostAsync(client, "patients/merge", """{"sourcePatientID":"RB-A","targetPatientID":"RB-B","userName":"u"}"""));
        await OkJsonAsync(await PostAsync(client, "studies/move", $$"""{"studyInstanceUid":"{{b}}","targetPatientID":"RB-C","patientName":"GAMMA^GIL","userName":"u"}"""));
        await OkJsonAsync(await PostAsync(client, $"corrections/{merge.GetProperty("correctionId").GetString()}/undo", """{"userName":"u"}"""));

        // Series moves: a study reconciled into a new one (document e studies/reconcile).
        var (reconciled, _, _) = await StowStudyAsync(client, "RB-R", "RHO^RAY", series: 2);
        await OkJsonAsync(await PostAsync(client, "studies/reconcile", $$"""
            {"sourceStudyInstanceUID":"{{reconciled}}","targetStudyInstanceUID":"{{EventSourced.Dicom.DicomUid.Generate()}}","patientID":"RB-R2","patientName":"RHO^RITA",
             "patientBirthDate":"19010101","patientSex":"M","accessionNumber":"AN-R","studyDescription":"Reconciled","studyDate":"20211229","userName":"u"}
            """));

        // Document d upload, a KOS, a series deprecated and restored, a study deprecated.
        var uploaded = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 1);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, "studies/createKos", $$"""{"studyInstanceUid":"{{uploaded.Study}}","callingAE":"NGV"}""")).StatusCode);
        var series = uploaded.Instances[0].Series;
        await OkJsonAsync(await PostAsync(client, "series/deprecation", $$"""{"seriesInstanceUid":"{{series}}","author":"JaneDoe","reason":"Wrong series"}"""));
        await Eventually.Until(
            async () => (await PostAsync(client, "series/deprecation/restore",
                $$"""{"studyInstanceUid":"{{uploaded.Study}}","seriesInstanceUid":"{{series}}","author":"JaneDoe","reason":"mistake"}""")).StatusCode,
            status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the series deprecation to complete and be restored");
        await OkJsonAsync(await PostAsync(client, "studies/deprecation", $$"""{"studyInstanceUid":"{{a}}","author":"JaneDoe","reason":"Wrong study"}"""));
        await Eventually.Until(
            async () => (await client.GetAsync($"/dicomweb/studies/{a}/metadata")).StatusCode,
            status => status == HttpStatusCode.NotFound, TimeSpan.FromSeconds(30), "the study deprecation to complete");

        // Document d deletes: a series deleted and restored, the other deleted and left so.
        var deleted = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 1);
        await ArchiveDeleteTests.DeleteOkAsync(client, "series", ArchiveDeleteTests.Params(deleted.PatientId, deleted.Study, deleted.Instances[0].Series));
        Assert.Equal(HttpStatusCode.OK, (await ArchiveDeleteTests.RestoreAsync(client, deleted.Study)).StatusCode);
        await ArchiveDeleteTests.DeleteOkAsync(client, "series", ArchiveDeleteTests.Params(deleted.PatientId, deleted.Study, deleted.Instances[1].Series));

        // Erasures: the patient of that study (one series deleted), and the patient of the reconciled study (its series moved in).
        foreach (var patient in new[] { deleted.PatientId, "RB-R2" })
        {
            var erased = await client.PostAsync("/admin/patients/erase", Json.Body($$"""{"patientId":"{{patient}}","reason":"request"}""", "application/json"));
            Assert.True(erased.StatusCode == HttpStatusCode.OK, $"erase {patient}: {(int)erased.StatusCode} {await erased.Content.ReadAsStringAsync()}");
        }
    }
}
