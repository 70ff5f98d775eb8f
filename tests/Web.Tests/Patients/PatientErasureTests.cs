using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Archive;
using EventSourced.Projections.Orders;
using EventSourced.Projections.Patients;
using EventSourced.Projections.Qido;
using EventSourced.Projections.Studies;
using EventSourced.Web.Tests.Ingestion;
using EventSourced.Web.Tests.Support;
using Marten;
using Npgsql;

namespace EventSourced.Web.Tests.Patients;

/// <summary>
/// The right to be forgotten, through HTTP on a real PostgreSQL: after an erasure no table of the
/// database (events, streams, documents, Wolverine's envelopes: every schema) and no blob holds the
/// patient's PatientName, PatientID or BirthDate; the study's non-identifying data still serve; another
/// patient and another tenant (holding the very same bytes) are untouched; the read models rebuild.
/// </summary>
public sealed class PatientErasureTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string TenantA = "erasure-a";
    private const string TenantB = "erasure-b";
    private const string Name = "QZWYXFAMILY^JOLENETTA";
    private const string PatientId = "PID-QZWYX-7731";
    private const string BirthDate = "19420817";

    private static readonly string[] Values = ["QZWYXFAMILY", "JOLENETTA", PatientId, BirthDate];

    [Fact]
    public async Task An_erased_patient_is_nowhere_in_the_database_or_the_blobs_and_the_study_still_serves()
    {
        var a = await fixture.App.ClientForTenantAsync(TenantA);
        var b = await fixture.App.ClientForTenantAsync(TenantB);

        // The patient: an order with its demographics, a report for it, then two series of two instances.
        var study = DicomUid.Generate();
        var order = Support.Orders.ExampleBody(study);
        order["PatientID"] = PatientId;
        order["PatientName"] = Name;
        order["PatientBirthDate"] = BirthDate;
        var orderId = await a.CreateOkAsync(order);
        var series = new[] { DicomUid.Generate(), DicomUid.Generate() };
        var instances = series.SelectMany(s => new[] { (Series: s, Sop: DicomUid.Generate()), (Series: s, Sop: DicomUid.Generate()) })
            .Select(i => (i.Series, i.Sop, Bytes: PatientSupport.Instance(study, i.Series, i.Sop, PatientId, Name, birthDate: BirthDate, sex: "F")))
            .ToList();
        Assert.Equal(HttpStatusCode.OK, (await a.PostAsync("/dicomweb/studies", Multipart.Related([.. instances.Select(i => i.Bytes)]))).StatusCode);
        var report = await a.PostAsync($"/orders/{orderId}/reports?report_type=summary", new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"finding":"normal","patient":"{{Name}}","score":0.5}"""))
        {
            Headers = { ContentType = new("application/json") },
        });
        Assert.Equal(HttpStatusCode.Created, report.StatusCode);

        // Another patient of the same tenant, and tenant B holding the same first instance, byte for byte.
        var (otherStudy, _, _) = await PatientSupport.StowStudyAsync(a, "PID-KEEP-1", "KEEPER^OTTO");
        Assert.Equal(HttpStatusCode.OK, (await b.PostAsync("/dicomweb/studies", Multipart.Related(instances[0].Bytes))).StatusCode);
        var sharedSha = Convert.ToHexStringLower(SHA256.HashData(instances[0].Bytes));
        Assert.NotEmpty(await HitsAsync()); // the search sees the values before the erasure

        var erase = await a.PostAsync("/admin/patients/erase", Json.Body($$"""{"patientId":"{{PatientId}}","reason":"GDPR art. 17 request 2026-118"}""", "application/json"));
        var erasedText = await erase.Content.ReadAsStringAsync();
        Assert.True(erase.StatusCode == HttpStatusCode.OK, $"{(int)erase.StatusCode}: {erasedText}");
        var erased = JsonDocument.Parse(erasedText).RootElement;
        Assert.Equal(4, erased.GetProperty("instancesRewritten").GetInt32());
        Assert.Equal([study], erased.GetProperty("studyInstanceUids").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal([orderId], erased.GetProperty("orderIds").EnumerateArray().Select(s => s.GetGuid()));
        Assert.DoesNotContain(Values, erasedText.Contains);

        // The asynchronous read models (study feed, order history) catch up with the erasure events.
        await Eventually.Until(CountErasedFeedEntriesAsync, n => n == 4, TimeSpan.FromSeconds(60), "the study feed's InstanceErased entries");

        // Nothing anywhere, but tenant B's own rows and its (shared) blob.
        Assert.Empty(await HitsAsync());
        var blobHits = BlobsHolding().Where(f => f.Sha256 != sharedSha).ToList();
        Assert.True(blobHits.Count == 0, $"Blobs still holding the patient's data: {string.Join(", ", blobHits.Select(f => f.Path))}");
        Assert.Contains(BlobsHolding(), f => f.Sha256 == sharedSha);

        // The change feed's metadata is read from the events, as masked: every instance, never the patient.
        var changes = await (await a.GetAsync("/dicomweb/changefeed?includemetadata=true&limit=200")).Content.ReadAsStringAsync();
        Assert.All(instances, i => Assert.Contains($"\"{i.Sop}\"", changes));
        Assert.Contains("\"00080018\"", changes);
        Assert.DoesNotContain(Values, changes.Contains);

        // The study's non-identifying data still serve: QIDO series and instances, WADO-RS bytes with the pixel data.
        Assert.Equal(2, (await QidoAsync(a, $"/dicomweb/studies/{study}/series")).GetArrayLength());
        Assert.Equal(4, (await QidoAsync(a, $"/dicomweb/studies/{study}/instances")).GetArrayLength());
        Assert.Equal(0, (await QidoAsync(a, $"/dicomweb/studies?PatientID={PatientId}")).GetArrayLength());
        var served = await RetrieveAsync(a, study, instances[0].Series, instances[0].Sop);
        Assert.DoesNotContain(Values, v => Encoding.ASCII.GetString(served).Contains(v, StringComparison.Ordinal));
        AssertDeidentified(instances[0].Bytes, served);

        // The report named the patient: its content is gone, nothing is served or polled for it.
        Assert.Equal(HttpStatusCode.NotFound, (await a.GetAsync($"/results?order_id={orderId}&report_type=summary")).StatusCode);

        // The other patient and tenant B are untouched.
        var kept = await QidoAsync(a, "/dicomweb/studies?PatientID=PID-KEEP-1");
        Assert.Equal(otherStudy, kept[0].GetProperty("0020000D").GetProperty("Value")[0].GetString());
        Assert.Contains("KEEPER^OTTO", kept.GetRawText());
        Assert.Contains(Name, (await QidoAsync(b, $"/dicomweb/studies?PatientID={PatientId}")).GetRawText());
        Assert.Equal(instances[0].Bytes, await RetrieveAsync(b, study, instances[0].Series, instances[0].Sop));

        // The audit shows the erasure: when, by whom, why; never the erased values.
        var audit = await a.GetAsync("/audit/erasures");
        var auditText = await audit.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, audit.StatusCode);
        var record = Assert.Single(JsonDocument.Parse(auditText).RootElement.EnumerateArray().ToList());
        Assert.Equal("GDPR art. 17 request 2026-118", record.GetProperty("reason").GetString());
        Assert.Equal($"{TenantA}-client", record.GetProperty("who").GetString());
        Assert.Equal(erased.GetProperty("erasureId").GetGuid(), record.GetProperty("erasureId").GetGuid());
        Assert.DoesNotContain(Values, auditText.Contains);
        Assert.Equal("[]", await (await b.GetAsync("/audit/erasures")).Content.ReadAsStringAsync());
        var history = await (await a.GetAsync($"/audit/studies/{study}/history")).Content.ReadAsStringAsync();
        Assert.Contains("\"InstanceErased\"", history);
        Assert.DoesNotContain(Values, history.Contains);
        Assert.Equal(HttpStatusCode.NotFound, (await a.GetAsync($"/audit/patients/{PatientId}/history")).StatusCode);

        // A repeated request is answered with the same erasure and rewrites nothing more.
        var again = JsonDocument.Parse(await (await a.PostAsync("/admin/patients/erase", Json.Body($$"""{"patientId":"{{PatientId}}"}""", "application/json"))).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(erased.GetProperty("erasureId").GetGuid(), again.GetProperty("erasureId").GetGuid());
        Assert.Equal(0, again.GetProperty("instancesRewritten").GetInt32());

        // Rebuilt from the (masked) log, the inline read models the erasure touched come out identical.
        string[] tables = ["mt_doc_qidostudy", "mt_doc_qidoseries", "mt_doc_qidoinstance", "mt_doc_ordersummary", "mt_doc_patientrecord", "mt_doc_archivestudy", "mt_doc_archiveseries", "mt_doc_currentreport"];
        var live = await ReadModelTables.RowsAsync(fixture.ConnectionString, tables);
        await ReadModelTables.ClearAsync(fixture.ConnectionString, tables);
        using (var daemon = await fixture.App.Store.BuildProjectionDaemonAsync())
        {
            await daemon.RebuildProjectionAsync<QidoStudyProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
            await daemon.RebuildProjectionAsync<QidoSeriesProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
            await daemon.RebuildProjectionAsync<Projections.Studies.InstanceRecordsProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
            await daemon.RebuildProjectionAsync<OrderSummaryProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
            await daemon.RebuildProjectionAsync<PatientRecordProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
            await daemon.RebuildProjectionAsync<ArchiveStudyProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
            await daemon.RebuildProjectionAsync<ArchiveSeriesProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
            await daemon.RebuildProjectionAsync<Projections.Reports.CurrentReportProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        }

        Assert.Equal(live, await ReadModelTables.RowsAsync(fixture.ConnectionString, tables));
    }

    [Fact]
    public async Task Erasure_needs_its_own_scope_a_patient_id_and_a_known_patient()
    {
        var all = await fixture.App.ClientForTenantAsync("erasure-errors");
        var withoutErase = await fixture.App.ClientForTenantAsync("erasure-errors", [.. Scopes.All.Remove(Scopes.PatientsErase)]);
        var body = Json.Body("""{"patientId":"PID-NOBODY"}""", "application/json");

        Assert.Equal(HttpStatusCode.Forbidden, (await withoutErase.PostAsync("/admin/patients/erase", body)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await all.PostAsync("/admin/patients/erase", Json.Body("""{"patientId":"PID-NOBODY"}""", "application/json"))).StatusCode);
        foreach (var bad in new[] { "{}", """{"patientId":""}""", """{"patientId":12}""", """{"patientId":"P","reason":[1]}""", $$"""{"patientId":"{{new string('x', 65)}}"}""" })
        {
            var response = await all.PostAsync("/admin/patients/erase", Json.Body(bad, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    private Task<List<string>> HitsAsync() => HitsAsync(fixture.ConnectionString, Values, TenantB);

    /// <summary>Every row of every table of every schema whose text (bytea as hex) holds one of the values, except <paramref name="exceptTenant"/>'s own rows.</summary>
    internal static async Task<List<string>> HitsAsync(string connectionString, string[] values, string? exceptTenant = null)
    {
        var patterns = values.SelectMany(v => new[] { $"%{v}%", $"%{Convert.ToHexStringLower(Encoding.ASCII.GetBytes(v))}%" }).ToArray();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = new List<(string Schema, string Table, bool Tenanted)>();
        await using (var command = new NpgsqlCommand(
            """
            select t.table_schema, t.table_name,
                   exists (select 1 from information_schema.columns c where c.table_schema = t.table_schema and c.table_name = t.table_name and c.column_name = 'tenant_id')
            from information_schema.tables t
            where t.table_type = 'BASE TABLE' and t.table_schema not in ('pg_catalog', 'information_schema')
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
            }
        }

        Assert.Contains(tables, t => t.Table == "mt_events");
        var hits = new List<string>();
        foreach (var (schema, table, tenanted) in tables)
        {
            var tenantFilter = tenanted && exceptTenant is not null ? $" and t.tenant_id is distinct from '{exceptTenant}'" : "";
            await using var command = new NpgsqlCommand($"""select left(t::text, 300) from "{schema}"."{table}" t where t::text ilike any(@patterns){tenantFilter}""", connection);
            command.Parameters.AddWithValue("patterns", patterns);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                hits.Add($"{schema}.{table}: {reader.GetString(0)}");
            }
        }

        return hits;
    }

    private async Task<int> CountErasedFeedEntriesAsync()
    {
        await using var session = fixture.App.Store.QuerySession(TenantA);
        var settled = await Projections.StudyFeed.StudyFeedReader.SettledThroughAsync(fixture.App.Store, CancellationToken.None);
        var feed = await Projections.StudyFeed.StudyFeedReader.ReadAsync(session, settled, 0, 10_000, CancellationToken.None);
        return feed.Entries.Count(x => x.Kind == Projections.StudyFeed.StudyChangeKind.InstanceErased);
    }

    private IEnumerable<(string Path, string Sha256)> BlobsHolding() => BlobsHolding(fixture.App.BlobRoot, Values);

    internal static IEnumerable<(string Path, string Sha256)> BlobsHolding(string blobRoot, string[] values)
    {
        foreach (var path in Directory.EnumerateFiles(blobRoot, "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(path);
            var text = Encoding.Latin1.GetString(bytes);
            if (values.Any(v => text.Contains(v, StringComparison.OrdinalIgnoreCase)))
            {
                yield return (path, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            }
        }
    }

    internal static async Task<JsonElement> QidoAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return JsonDocument.Parse("[]").RootElement;
        }

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    internal static async Task<byte[]> RetrieveAsync(HttpClient client, string study, string series, string sop)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/dicomweb/studies/{study}/series/{series}/instances/{sop}");
        request.Headers.TryAddWithoutValidation("Accept", "multipart/related; type=\"application/dicom\"; transfer-syntax=*");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Assert.Single(await CorpusRoundTripTests.PartsAsync(response));
    }

    /// <summary>pydicom and DCMTK read the rewritten file: patient attributes empty, identity removed flagged, UIDs and pixel data as sent.</summary>
    private static void AssertDeidentified(byte[] original, byte[] rewritten)
    {
        var folder = Directory.CreateTempSubdirectory("erasure-");
        try
        {
            var before = Path.Combine(folder.FullName, "before.dcm");
            var after = Path.Combine(folder.FullName, "after.dcm");
            File.WriteAllBytes(before, original);
            File.WriteAllBytes(after, rewritten);
            var script = """
                import sys, pydicom
                a = pydicom.dcmread(sys.argv[1]); b = pydicom.dcmread(sys.argv[2])
                print(repr(str(b.PatientName)), repr(b.PatientID), repr(b.get('PatientBirthDate')), b.PatientIdentityRemoved,
                      b.StudyInstanceUID == a.StudyInstanceUID, b.SOPInstanceUID == a.SOPInstanceUID,
                      b.PixelData == a.PixelData, len(b.PixelData) > 0, b.Rows == a.Rows, 'OtherPatientIDs' in b)
                """;
            Assert.Equal("'' '' '' YES True True True True True False", Run("/usr/bin/python3", ["-c", script, before, after]).Trim());

            var dump = Run("dcmdump", ["-q", "+P", "PatientName", "+P", "PatientID", "+P", "PatientBirthDate", "+P", "PatientIdentityRemoved", after]);
            Assert.Contains("(0010,0010) PN (no value available)", dump);
            Assert.Contains("(0010,0020) LO (no value available)", dump);
            Assert.Contains("(0010,0030) DA (no value available)", dump);
            Assert.Contains("(0012,0062) CS [YES]", dump);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static string Run(string program, string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} failed: {errors}");
        return output;
    }
}
