using System.Net;
using System.Text;
using System.Text.Json;
using EventSourced.Web.Tests.Archive;
using EventSourced.Web.Tests.Studies;
using EventSourced.Web.Tests.Support;
using static EventSourced.Web.Tests.Patients.PatientSupport;

namespace EventSourced.Web.Tests.Patients;

/// <summary>
/// Erasure meets the other corrections, through HTTP on PostgreSQL: the patient's instances are those filed
/// under its studies now, whatever study they were received in (studies/swap); restoring deprecated or
/// deleted content after an erasure brings back the rewritten instance, never an erased value or a removed blob.
/// </summary>
public sealed class ErasureAfterMovesAndDeletesTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string XId = "PID-QXMOVE-4417";
    private const string XName = "QXMOVEFAM^XAVIERA";
    private const string YId = "PID-QYMOVE-5528";
    private const string YName = "QYMOVEFAM^YOLANDA";
    private static readonly string[] XValues = ["QXMOVEFAM", "XAVIERA", XId];
    private static readonly string[] YValues = ["QYMOVEFAM", "YOLANDA", YId];

    [Fact]
    public async Task After_a_swap_the_erasure_rewrites_the_instances_filed_under_the_patients_studies_and_no_others()
    {
        var client = await fixture.App.ClientForTenantAsync("erasure-moved");
        var x = await StowStudyAsync(client, XId, XName, series: 2);
        var y = await StowStudyAsync(client, YId, YName, instancesPerSeries: 3);
        await OkJsonAsync(await PostAsync(client, "studies/swap", $$"""{"sourceStudyInstanceUID":"{{x.Study}}","targetStudyInstanceUID":"{{y.Study}}","userName":"u"}"""));

        // X's study now holds Y's three instances (shown as X's); Y's study holds X's two (shown as Y's).
        var erased = await EraseAsync(client, XId);
        Assert.Equal(3, erased.GetProperty("instancesRewritten").GetInt32());
        Assert.Equal([x.Study], erased.GetProperty("studyInstanceUids").EnumerateArray().Select(s => s.GetString()));
        await NoHitsAsync(XValues);

        // X's study serves the three rewritten instances: no value of X (their study's patient) nor of Y (whose bytes they were).
        Assert.Equal(3, (await PatientErasureTests.QidoAsync(client, $"/dicomweb/studies/{x.Study}/instances")).GetArrayLength());
        var xMetadata = await (await client.GetAsync($"/dicomweb/studies/{x.Study}/metadata")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(XValues.Concat(YValues), xMetadata.Contains);
        foreach (var sop in y.Sops)
        {
            var served = Encoding.Latin1.GetString(await PatientErasureTests.RetrieveAsync(client, x.Study, y.Series[0], sop));
            Assert.DoesNotContain(XValues.Concat(YValues), served.Contains);
            Assert.Contains(x.Study, served);
        }

        // The instances received for X but filed under Y's study are Y's now: served with Y's identity, untouched.
        Assert.Contains(YName, (await PatientErasureTests.QidoAsync(client, $"/dicomweb/studies?PatientID={YId}")).GetRawText());
        for (var i = 0; i < 2; i++)
        {
            var served = Encoding.Latin1.GetString(await PatientErasureTests.RetrieveAsync(client, y.Study, x.Series[i], x.Sops[i]));
            Assert.Contains(YId, served);
            Assert.DoesNotContain(XValues, served.Contains);
        }

        // Then Y is erased: the two instances in its study are rewritten, and no blob holds either patient any more.
        var erasedY = await EraseAsync(client, YId);
        Assert.Equal(2, erasedY.GetProperty("instancesRewritten").GetInt32());
        await NoHitsAsync([.. XValues, .. YValues]);
        var blobs = PatientErasureTests.BlobsHolding(fixture.App.BlobRoot, [.. XValues, .. YValues]).ToList();
        Assert.True(blobs.Count == 0, $"Blobs still holding a patient's data: {string.Join(", ", blobs.Select(b => b.Path))}");
        for (var i = 0; i < 2; i++)
        {
            Assert.DoesNotContain(YValues, Encoding.Latin1.GetString(await PatientErasureTests.RetrieveAsync(client, y.Study, x.Series[i], x.Sops[i])).Contains);
        }

        var rebuilt = await Rebuild.RebuildEqualsLiveTests.VerifyAsync(fixture.App);
        Assert.True(rebuilt.Differences.Count == 0, string.Join('\n', rebuilt.Differences));
    }

    [Fact]
    public async Task Deprecated_and_deleted_content_restored_after_the_erasure_comes_back_rewritten()
    {
        var client = await fixture.App.ClientForTenantAsync("erasure-restore");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 1);
        var (deprecated, deleted) = (study.Instances[0], study.Instances[1]);
        await OkJsonAsync(await PostAsync(client, "series/deprecation", $$"""{"seriesInstanceUid":"{{deprecated.Series}}","author":"JaneDoe","reason":"Wrong series"}"""));
        await Eventually.Until(
            async () => (await client.GetAsync($"/dicomweb/studies/{study.Study}/series/{deprecated.Series}/metadata")).StatusCode,
            status => status == HttpStatusCode.NotFound, TimeSpan.FromSeconds(30), "the series deprecation to complete");
        await ArchiveDeleteTests.DeleteOkAsync(client, "series", ArchiveDeleteTests.Params(study.PatientId, study.Study, deleted.Series));

        // Both instances are out of every read path, and both are the patient's: rewritten, with the deprecation's rejection note.
        var erased = await EraseAsync(client, study.PatientId);
        Assert.Equal(3, erased.GetProperty("instancesRewritten").GetInt32());

        await OkJsonAsync(await PostAsync(client, "series/deprecation/restore",
            $$"""{"studyInstanceUid":"{{study.Study}}","seriesInstanceUid":"{{deprecated.Series}}","author":"JaneDoe","reason":"mistake"}"""));
        var restored = await ArchiveDeleteTests.RestoreAsync(client, study.Study);
        var restoredText = await restored.Content.ReadAsStringAsync();
        Assert.True(restored.StatusCode == HttpStatusCode.OK, $"{(int)restored.StatusCode}: {restoredText}");
        Assert.Equal(1, JsonDocument.Parse(restoredText).RootElement.GetProperty("restored_instances").GetInt32());

        // Each is served again, from its rewritten blob: de-identified, the pixel data as sent.
        foreach (var instance in new[] { deprecated, deleted })
        {
            var served = await PatientErasureTests.RetrieveAsync(client, instance.Study, instance.Series, instance.Sop);
            Assert.DoesNotContain(study.PatientId, Encoding.Latin1.GetString(served));
            Assert.Contains("YES", Encoding.Latin1.GetString(served)); // Patient Identity Removed
            var metadata = await (await client.GetAsync($"/dicomweb/studies/{instance.Study}/series/{instance.Series}/instances/{instance.Sop}/metadata")).Content.ReadAsStringAsync();
            Assert.Contains(instance.Sop, metadata);
            Assert.DoesNotContain(study.PatientId, metadata);
        }

        Assert.Equal(2, (await PatientErasureTests.QidoAsync(client, $"/dicomweb/studies/{study.Study}/instances")).GetArrayLength());
        await NoHitsAsync([study.PatientId]);
        var rebuilt = await Rebuild.RebuildEqualsLiveTests.VerifyAsync(fixture.App);
        Assert.True(rebuilt.Differences.Count == 0, string.Join('\n', rebuilt.Differences));
    }

    /// <summary>The whole database holds none of the values once the asynchronous study feed has rewritten its entries.</summary>
    private async Task NoHitsAsync(string[] values)
    {
        var hits = await Eventually.Until(
            async () => string.Join('\n', await PatientErasureTests.HitsAsync(fixture.ConnectionString, values)), h => h.Length == 0, TimeSpan.FromSeconds(60), "no row holding the values");
        Assert.Empty(hits);
    }

    private static async Task<JsonElement> EraseAsync(HttpClient client, string patientId)
    {
        var response = await client.PostAsync("/admin/patients/erase", Json.Body($$"""{"patientId":"{{patientId}}","reason":"request"}""", "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
