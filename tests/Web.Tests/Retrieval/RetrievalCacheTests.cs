using System.Net;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Archive;
using EventSourced.Web.Tests.Ingestion;
using EventSourced.Web.Tests.Patients;
using EventSourced.Web.Tests.Studies;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Retrieval;

/// <summary>
/// WADO-RS study metadata is rendered once per study version and an instance's corrections are read once per
/// study version (Shared/Retrieval/StudyRetrievalCache): every change of the study — a merge, a move of series
/// into it or out of it, a deprecation, its restore, a delete — shows in the very next retrieval after it,
/// although the same retrievals were answered (and kept) just before it.
/// </summary>
public sealed class RetrievalCacheTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    /// <summary>The study's metadata, read twice (the second answer comes from what the first kept, and must equal it): SOP Instance UID → PatientID.</summary>
    internal static async Task<Dictionary<string, string?>> MetadataAsync(HttpClient client, string study)
    {
        var first = await MetadataOnceAsync(client, study);
        var second = await MetadataOnceAsync(client, study);
        Assert.Equal(first.Status, second.Status);
        if (first.Status == HttpStatusCode.NotFound)
        {
            return [];
        }

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(first.Body, second.Body);
        return JsonDocument.Parse(first.Body).RootElement.EnumerateArray().ToDictionary(
            i => i.GetProperty(DicomTags.SOPInstanceUID.JsonKey()).GetProperty("Value")[0].GetString()!,
            i => i.TryGetProperty(DicomTags.PatientID.JsonKey(), out var id) && id.TryGetProperty("Value", out var v) ? v[0].GetString() : null);
    }

    /// <summary>
    /// The study's metadata (the study-level rendering, read on retrieval's own pool and kept) equals, instance for
    /// instance and byte for byte, what the series-level and instance-level routes serve (read through Marten, written
    /// as they are read, never kept).
    /// </summary>
    internal static async Task AssertSameAsSeriesAndInstanceMetadataAsync(HttpClient client, string study)
    {
        var (status, body) = await MetadataOnceAsync(client, study);
        Assert.Equal(HttpStatusCode.OK, status);
        var whole = JsonDocument.Parse(body, Deep).RootElement.EnumerateArray().ToList();
        static string Uid(JsonElement instance, DicomTag tag) => instance.GetProperty(tag.JsonKey()).GetProperty("Value")[0].GetString()!;
        foreach (var series in whole.GroupBy(i => Uid(i, DicomTags.SeriesInstanceUID)))
        {
            var (seriesStatus, seriesBody) = await MetadataOnceAsync(client, $"{study}/series/{series.Key}");
            Assert.Equal(HttpStatusCode.OK, seriesStatus);
            Assert.Equal(series.Select(i => i.GetRawText()), JsonDocument.Parse(seriesBody, Deep).RootElement.EnumerateArray().Select(i => i.GetRawText()));
        }

        var last = whole[^1];
        var (instanceStatus, instanceBody) = await MetadataOnceAsync(client,
            $"{study}/series/{Uid(last, DicomTags.SeriesInstanceUID)}/instances/{Uid(last, DicomTags.SOPInstanceUID)}");
        Assert.Equal(HttpStatusCode.OK, instanceStatus);
        Assert.Equal(last.GetRawText(), Assert.Single(JsonDocument.Parse(instanceBody, Deep).RootElement.EnumerateArray()).GetRawText());
    }

    /// <summary>Answers are parsed as deep as a stored header can be (DICOM JSON of nested sequences).</summary>
    private static readonly JsonDocumentOptions Deep = DicomJsonWriter.DocumentOptions;

    /// <param name="path">The study UID, or the study UID and the rest of a series or instance path.</param>
    private static async Task<(HttpStatusCode Status, string Body)> MetadataOnceAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/dicomweb/studies/{path}/metadata");
        request.Headers.Accept.ParseAdd("application/dicom+json");
        var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The instance's file as WADO-RS serves it, read twice (both answers equal); null for a 404.</summary>
    internal static async Task<DicomDataset?> InstanceAsync(HttpClient client, string study, string series, string sop)
    {
        var url = $"/dicomweb/studies/{study}/series/{series}/instances/{sop}";
        var first = await client.GetAsync(url);
        var second = await client.GetAsync(url);
        Assert.Equal(first.StatusCode, second.StatusCode);
        if (first.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        var bytes = Assert.Single(await CorpusRoundTripTests.PartsAsync(first));
        Assert.Equal(bytes, Assert.Single(await CorpusRoundTripTests.PartsAsync(second)));
        return DicomReader.Read(bytes).Dataset;
    }

    [Fact]
    public async Task A_merge_and_a_move_of_series_show_in_the_very_next_metadata_and_files()
    {
        var client = await fixture.App.ClientForTenantAsync("retrieval-cache-corrections");
        var (patientA, patientB) = ("RC-A-" + Guid.NewGuid().ToString("N")[..6], "RC-B-" + Guid.NewGuid().ToString("N")[..6]);
        var source = await PatientSupport.StowStudyAsync(client, patientA, "ALPHA^ANN", instancesPerSeries: 2);
        var target = await PatientSupport.StowStudyAsync(client, patientB, "BETA^BOB");
        Assert.All((await MetadataAsync(client, source.Study)).Values, id => Assert.Equal(patientA, id));
        await AssertSameAsSeriesAndInstanceMetadataAsync(client, source.Study);
        Assert.Equal(patientA, (await InstanceAsync(client, source.Study, source.Series[0], source.Sops[0]))!.GetString(DicomTags.PatientID));
        Assert.Equal(patientB, (await InstanceAsync(client, target.Study, target.Series[0], target.Sops[0]))!.GetString(DicomTags.PatientID));

        // A merge: the source study is filed under the target patient; its stored files are not rewritten, what is served is.
        await PatientSupport.OkJsonAsync(await PatientSupport.PostAsync(client, "patients/merge",
            $$"""{"sourcePatientID":"{{patientA}}","targetPatientID":"{{patientB}}","userName":"u"}"""));
        Assert.All((await MetadataAsync(client, source.Study)).Values, id => Assert.Equal(patientB, id));
        await AssertSameAsSeriesAndInstanceMetadataAsync(client, source.Study);
        Assert.Equal(patientB, (await InstanceAsync(client, source.Study, source.Series[0], source.Sops[0]))!.GetString(DicomTags.PatientID));

        // A move: the source's series joins the target study; the source serves nothing, the target serves the
        // joined instances with its own identity written into their files.
        await PatientSupport.OkJsonAsync(await PatientSupport.PostAsync(client, "studies/reconcile",
            $$"""{"sourceStudyInstanceUID":"{{source.Study}}","targetStudyInstanceUID":"{{target.Study}}","patientID":"{{patientB}}","userName":"u"}"""));
        Assert.Empty(await MetadataAsync(client, source.Study));
        Assert.Null(await InstanceAsync(client, source.Study, source.Series[0], source.Sops[0]));
        Assert.Equal(source.Sops.Append(target.Sops[0]).Order(), (await MetadataAsync(client, target.Study)).Keys.Order());
        await AssertSameAsSeriesAndInstanceMetadataAsync(client, target.Study);
        var moved = await InstanceAsync(client, target.Study, source.Series[0], source.Sops[0]);
        Assert.Equal(target.Study, moved!.GetString(DicomTags.StudyInstanceUID));
        Assert.Equal(patientB, moved.GetString(DicomTags.PatientID));
    }

    [Fact]
    public async Task A_deprecation_its_restore_and_a_delete_show_in_the_very_next_metadata_and_files()
    {
        var client = await fixture.App.ClientForTenantAsync("retrieval-cache-lifecycle");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 2);
        var (gone, kept) = (study.Instances.Where(i => i.Series == study.Instances[0].Series).ToList(), study.Instances[2]);
        Assert.Equal(study.Instances.Select(i => i.Sop).Order(), (await MetadataAsync(client, study.Study)).Keys.Order());
        Assert.NotNull(await InstanceAsync(client, study.Study, gone[0].Series, gone[0].Sop));

        // Deprecation completes in the background: once QIDO (never kept) no longer lists the series, neither
        // may the metadata or WADO-RS.
        await PatientSupport.OkJsonAsync(await PatientSupport.PostAsync(client, "series/deprecation",
            $$"""{"seriesInstanceUid":"{{gone[0].Series}}","author":"JaneDoe","reason":"Wrong series"}"""));
        await Eventually.Until(
            async () => (await client.GetAsync($"/dicomweb/studies/{study.Study}/series/{gone[0].Series}/instances")).StatusCode,
            status => status == HttpStatusCode.NoContent, TimeSpan.FromSeconds(30), "the deprecation to complete");
        var afterDeprecation = await MetadataAsync(client, study.Study);
        Assert.DoesNotContain(afterDeprecation.Keys, gone.Select(i => i.Sop).Contains);
        Assert.Contains(kept.Sop, afterDeprecation.Keys);
        await AssertSameAsSeriesAndInstanceMetadataAsync(client, study.Study);
        Assert.Null(await InstanceAsync(client, study.Study, gone[0].Series, gone[0].Sop));

        // The restore answers once it is committed: the next retrieval has the series again.
        await PatientSupport.OkJsonAsync(await PatientSupport.PostAsync(client, "series/deprecation/restore",
            $$"""{"studyInstanceUid":"{{study.Study}}","seriesInstanceUid":"{{gone[0].Series}}","author":"JaneDoe","reason":"Deprecated by mistake"}"""));
        Assert.Superset(gone.Select(i => i.Sop).ToHashSet(), (await MetadataAsync(client, study.Study)).Keys.ToHashSet());
        await AssertSameAsSeriesAndInstanceMetadataAsync(client, study.Study);
        Assert.NotNull(await InstanceAsync(client, study.Study, gone[0].Series, gone[0].Sop));

        // Document d's series delete.
        await ArchiveDeleteTests.DeleteOkAsync(client, "series", ArchiveDeleteTests.Params(study.PatientId, study.Study, gone[0].Series));
        Assert.DoesNotContain((await MetadataAsync(client, study.Study)).Keys, gone.Select(i => i.Sop).Contains);
        Assert.Null(await InstanceAsync(client, study.Study, gone[0].Series, gone[0].Sop));
        Assert.NotNull(await InstanceAsync(client, study.Study, kept.Series, kept.Sop));
    }

    [Fact]
    public async Task An_instance_stored_into_a_study_shows_in_the_very_next_metadata_and_tenants_never_share_a_rendering()
    {
        var client = await fixture.App.ClientForTenantAsync("retrieval-cache-store");
        var other = await fixture.App.ClientForTenantAsync("retrieval-cache-other");
        var first = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(first.Bytes))).StatusCode);
        Assert.Equal([first.Sop], (await MetadataAsync(client, first.Study)).Keys);

        // The same study UID in another tenant is another study: its own instance only, and the first tenant's
        // kept rendering is not the answer.
        var elsewhere = SyntheticInstances.Create(first.Study);
        Assert.Equal(HttpStatusCode.OK, (await other.PostAsync("/dicomweb/studies", Multipart.Related(elsewhere.Bytes))).StatusCode);
        Assert.Equal([elsewhere.Sop], (await MetadataAsync(other, first.Study)).Keys);
        Assert.Equal([first.Sop], (await MetadataAsync(client, first.Study)).Keys);

        var second = SyntheticInstances.Create(first.Study);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(second.Bytes))).StatusCode);
        Assert.Equal(new[] { first.Sop, second.Sop }.Order(), (await MetadataAsync(client, first.Study)).Keys.Order());
    }

    /// <summary>
    /// The study-level rendering copies each stored header token by token (Wado/BulkDataUris.Copy) where the series
    /// and instance routes parse it and write it again: the two agree byte for byte for text the JSON writer escapes
    /// or leaves as it is (quotes, a backslash, line ends, tabs, accents, a character outside the Basic Multilingual
    /// Plane, HTML characters), for binary values left out at the top level and inside nested sequence items
    /// (BulkDataURIs with the item path) or kept inline, before a patient correction and after it.
    /// </summary>
    [Fact]
    public async Task A_study_rendering_equals_the_series_and_instance_renderings_for_escaped_text_and_bulk_data_in_nested_sequences()
    {
        var client = await fixture.App.ClientForTenantAsync("retrieval-cache-escapes");
        var patientId = "RC-E-" + Guid.NewGuid().ToString("N")[..6];
        const string name = "Müller^Zoë \U0001F600";
        const string description = "quote \" <b>&amp;'</b> é";
        const string comments = "line one\r\nline two\tafter a tab, a back\\slash";
        var (bytes, study, _, _) = SyntheticInstances.Create();
        var file = DicomReader.Read(bytes);
        var dataset = file.Dataset;
        dataset.AddString(DicomTags.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
        dataset.AddString(DicomTags.PatientID, DicomVR.LO, patientId);
        dataset.AddString(DicomTags.PatientName, DicomVR.PN, name);
        dataset.AddString(DicomTags.StudyDescription, DicomVR.LO, description);
        dataset.AddString(DicomTags.ImageComments, DicomVR.LT, comments);
        dataset.Set(new DicomElement(DicomTags.RedPaletteColorLookupTableData, DicomVR.OW, new byte[4096]));
        var inner = new DicomDataset();
        inner.AddString(DicomTags.CodeValue, DicomVR.SH, "C\"1");
        inner.Set(new DicomElement(DicomTags.RedPaletteColorLookupTableData, DicomVR.OW, new byte[2048]));
        var item = new DicomDataset();
        item.AddString(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, DicomUid.Generate());
        item.Set(new DicomElement(DicomTags.RedPaletteColorLookupTableData, DicomVR.OW, new byte[16]));
        item.Set(DicomElement.Sequence(DicomTags.DerivationCodeSequence, [inner]));
        dataset.Set(DicomElement.Sequence(DicomTags.ReferencedImageSequence, [new DicomDataset(), item]));
        var second = DicomReader.Read(DicomWriter.ToBytes(file));
        second.Dataset.AddString(DicomTags.SeriesInstanceUID, DicomVR.UI, DicomUid.Generate());
        second.Dataset.AddString(DicomTags.SOPInstanceUID, DicomVR.UI, DicomUid.Generate());
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(DicomWriter.ToBytes(file), DicomWriter.ToBytes(second)))).StatusCode);

        await AssertSameAsSeriesAndInstanceMetadataAsync(client, study);
        var (_, body) = await MetadataOnceAsync(client, study);
        var first = JsonDocument.Parse(body).RootElement[0];
        var url = $"/dicomweb/studies/{study}/series/{first.GetProperty(DicomTags.SeriesInstanceUID.JsonKey()).GetProperty("Value")[0].GetString()}/instances/{first.GetProperty(DicomTags.SOPInstanceUID.JsonKey()).GetProperty("Value")[0].GetString()}/bulkdata/";
        Assert.Equal(name, first.GetProperty(DicomTags.PatientName.JsonKey()).GetProperty("Value")[0].GetProperty("Alphabetic").GetString());
        Assert.Equal(description, first.GetProperty(DicomTags.StudyDescription.JsonKey()).GetProperty("Value")[0].GetString());
        Assert.Equal(comments, first.GetProperty(DicomTags.ImageComments.JsonKey()).GetProperty("Value")[0].GetString());
        var lut = DicomTags.RedPaletteColorLookupTableData.JsonKey();
        Assert.EndsWith(url + lut, first.GetProperty(lut).GetProperty("BulkDataURI").GetString());
        var sequence = DicomTags.ReferencedImageSequence.JsonKey();
        var referenced = first.GetProperty(sequence).GetProperty("Value")[1];
        Assert.True(referenced.GetProperty(lut).TryGetProperty("InlineBinary", out _));
        var derivation = DicomTags.DerivationCodeSequence.JsonKey();
        Assert.EndsWith($"{url}{sequence}/2/{derivation}/1/{lut}", referenced.GetProperty(derivation).GetProperty("Value")[0].GetProperty(lut).GetProperty("BulkDataURI").GetString());

        // A correction: the study's patient is served from its record (the headers parsed and coerced), still the same bytes as the series and instance routes.
        await PatientSupport.OkJsonAsync(await PatientSupport.PostAsync(client, "patients/update",
            $$"""{"patientID":"{{patientId}}","patientName":"Ünïcode^Ñame","userName":"u"}"""));
        await AssertSameAsSeriesAndInstanceMetadataAsync(client, study);
        Assert.All((await MetadataAsync(client, study)).Values, id => Assert.Equal(patientId, id));
        Assert.All(JsonDocument.Parse((await MetadataOnceAsync(client, study)).Body).RootElement.EnumerateArray(),
            i => Assert.Equal("Ünïcode^Ñame", i.GetProperty(DicomTags.PatientName.JsonKey()).GetProperty("Value")[0].GetProperty("Alphabetic").GetString()));
    }

    /// <summary>
    /// A header nested deeper than System.Text.Json's default limit (64 JSON levels; here 40 sequence levels, about 120):
    /// stored, then served at every metadata level, and a second instance stored into the same study (whose
    /// decision reads the first one's event back from the log), never a 500.
    /// </summary>
    [Fact]
    public async Task A_header_nested_deeper_than_the_json_defaults_is_stored_and_served_at_every_level()
    {
        var client = await fixture.App.ClientForTenantAsync("retrieval-cache-deep");
        var (bytes, study, _, _) = SyntheticInstances.Create();
        var file = DicomReader.Read(bytes);
        var innermost = new DicomDataset();
        innermost.AddString(DicomTags.CodeValue, DicomVR.SH, "DEEP");
        for (var level = 0; level < 40; level++)
        {
            var item = new DicomDataset();
            item.Set(DicomElement.Sequence(DicomTags.ReferencedImageSequence, [innermost]));
            innermost = item;
        }

        file.Dataset.Set(DicomElement.Sequence(DicomTags.ReferencedImageSequence, [innermost]));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(DicomWriter.ToBytes(file)))).StatusCode);

        var second = DicomReader.Read(DicomWriter.ToBytes(file));
        second.Dataset.AddString(DicomTags.SOPInstanceUID, DicomVR.UI, DicomUid.Generate());
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(DicomWriter.ToBytes(second)))).StatusCode);

        await AssertSameAsSeriesAndInstanceMetadataAsync(client, study);

        // QIDO-RS shows the whole header of each instance as deep as it is stored.
        var qido = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/dicomweb/studies/{study}/instances?includefield=all")
        {
            Headers = { { "Accept", "application/dicom+json" } },
        });
        var found = await qido.Content.ReadAsStringAsync();
        Assert.True(qido.StatusCode == HttpStatusCode.OK, $"{(int)qido.StatusCode}: {found[..Math.Min(found.Length, 300)]}");
        Assert.Equal(2, JsonDocument.Parse(found, Deep).RootElement.GetArrayLength());
        var xml = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/dicomweb/studies/{study}/instances?includefield=all")
        {
            Headers = { { "Accept", "multipart/related; type=\"application/dicom+xml\"" } },
        });
        Assert.Equal(HttpStatusCode.OK, xml.StatusCode);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(await xml.Content.ReadAsStringAsync(), "<NativeDicomModel"));

        // A patient correction: the headers are coerced (Domain's PatientHeaders) and served at every level alike.
        var patientId = file.Dataset.GetString(DicomTags.PatientID)!;
        await PatientSupport.OkJsonAsync(await PatientSupport.PostAsync(client, "patients/update",
            $$"""{"patientID":"{{patientId}}","patientName":"DEEP^RENAMED","userName":"u"}"""));
        await AssertSameAsSeriesAndInstanceMetadataAsync(client, study);
        var (_, body) = await MetadataOnceAsync(client, study);
        Assert.All(JsonDocument.Parse(body, Deep).RootElement.EnumerateArray(),
            i => Assert.Equal("DEEP^RENAMED", i.GetProperty(DicomTags.PatientName.JsonKey()).GetProperty("Value")[0].GetProperty("Alphabetic").GetString()));

        // A rebuild from the log gives the same read models (the verifier parses the rows as deep).
        await new ServiceProcess(fixture.ConnectionString, fixture.App.BlobRoot).AssertProjectionsVerifyAsync();

        // Domain's limit for headers is the codec's.
        Assert.Equal(DicomJsonWriter.MaxJsonDepth, EventSourced.Domain.Common.HeaderJson.MaxDepth);
    }
}
