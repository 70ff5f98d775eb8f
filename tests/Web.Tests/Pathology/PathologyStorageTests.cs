using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using EventSourced.Application.Blobs;
using EventSourced.Dicom;
using EventSourced.Web.Infrastructure.Blobs;
using EventSourced.Web.Tests.Studies;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Support;
using EventSourced.Projections.Blobs;
using EventSourced.Projections.Pathology;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourced.Web.Tests.Pathology;

public sealed class PathologyFixture : ServiceFixture
{
    public const string Node = "SCANNER1";

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Nodes:Dicom:1:AeTitle"] = Node,
        // The orphan sweep runs when a test says so, with no grace: a blob no event names is removed at once.
        ["Blobs:OrphanSweepInterval"] = "00:00:00",
        ["Blobs:OrphanGracePeriod"] = "00:00:00",
    };
}

/// <summary>
/// Document e's digital pathology storage (single-file slide, MIRAX archive, sidecar) and whole slide
/// retrieval, over HTTP on the real service, with slide-shaped files checked by Pillow, and the generated
/// SM instance read by pydicom and DCMTK.
/// </summary>
public sealed class PathologyStorageTests(PathologyFixture fixture) : IClassFixture<PathologyFixture>
{
    private const string Store = $"/o3-dpacs-wado/pathoRsListener/{PathologyFixture.Node}/studies";

    private Task<HttpClient> Client(string tenant) => fixture.App.ClientForTenantAsync(tenant);

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}";

    private static async Task<JsonElement> OkAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detailContains, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<(byte[] Body, string? FileName, string? ContentType)> WholeSlideAsync(HttpClient client, string barcode)
    {
        var response = await client.GetAsync($"/o3-dpacs-wado/wholeslide?barcode={Uri.EscapeDataString(barcode)}");
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
        return (body, response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"'), response.Content.Headers.ContentType?.MediaType);
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private bool BlobExists(byte[] bytes) => fixture.App.Services.GetRequiredService<IBlobStore>().Exists(Sha256(bytes));

    [Fact]
    public async Task A_tiled_TIFF_becomes_an_SM_study_instance_read_by_pydicom_and_DCMTK_and_is_served_back_byte_for_byte()
    {
        var client = await Client("patho-tiff");
        var (accession, container) = (Unique("I23"), Unique("I23-A-1-1"));
        var tiff = SlideFiles.TiledTiff(40, 24, seed: 1);
        Assert.Equal((40, 24, 16, 16), SlideFiles.PillowTiff(tiff)); // the input is a real tiled TIFF
        var metadata = SlideFiles.Metadata(accession, container, extraAttributes: """, "ScheduledProcedureStepSequence/ScheduledStationAETitle": "SCANNER_7" """);

        var stored = await OkAsync(await client.PostAsync(Store, SlideFiles.Form(metadata, tiff, "slide 1.tiff", "image/tiff", SlideFiles.Sha1(tiff), tiff.Length.ToString())));

        Assert.Equal("stored", stored.GetProperty("message").GetString());
        var (study, series, sop) = (stored.GetProperty("StudyInstanceUID").GetString()!, stored.GetProperty("SeriesInstanceUID").GetString()!, stored.GetProperty("SOPInstanceUID").GetString()!);
        Assert.StartsWith("2.25.", study);
        Assert.StartsWith("2.25.", sop);

        // A study instance like any other: QIDO finds it by the slide's attributes.
        var (_, found) = await client.QidoAsync($"/dicomweb/instances?AccessionNumber={accession}&Modality=SM&includefield=00400512");
        var row = Assert.Single(found.EnumerateArray());
        Assert.Equal(sop, row.Value("00080018"));
        Assert.Equal("1.2.826.0.1.3680043.2.619.20220407.1", row.Value("00080016"));
        Assert.Equal(container, row.Value("00400512"));

        // The stored instance, read by the outside readers.
        var dicom = await KeyObjectOracle.RetrieveAsync(client, study, series, sop);
        var dump = KeyObjectOracle.Dump(dicom);
        Assert.Contains("(0004,1500) CS [slide 1.tiff]", dump);
        Assert.Contains("(0008,0060) CS [SM]", dump);
        Assert.Contains($"(0040,0512) LO [{container}]", dump);
        var read = SlideFiles.Pydicom(dicom);
        Assert.Equal("1.2.826.0.1.3680043.2.619.20220407.1", read.GetProperty("SOPClassUID").GetString());
        Assert.Equal("1.2.826.0.1.3680043.2.619.20220407.1", read.GetProperty("MediaStorageSOPClassUID").GetString());
        Assert.Equal("SM", read.GetProperty("Modality").GetString());
        Assert.Equal("slide 1.tiff", read.GetProperty("ReferencedFileID").GetString());
        Assert.Equal("PAT-1", read.GetProperty("PatientID").GetString());
        Assert.Equal("TEST^TEST", read.GetProperty("PatientName").GetString());
        Assert.Equal("SCANNER_7", read.GetProperty("StationAET").GetString()); // "/" nests into the sequence
        Assert.Equal("222", read.GetProperty("SpecimenIdentifier").GetString());
        Assert.Equal("B-1-1", read.GetProperty("SpecimenShortDescription").GetString());
        Assert.False(read.GetProperty("HasPixelData").GetBoolean());
        var steps = read.GetProperty("Steps").EnumerateArray().ToList();
        Assert.Equal(4, steps.Count);
        Assert.Equal("Specimen collection", steps[0].GetProperty("Processing type").GetString());
        Assert.Equal("Specimen procedure", steps[0].GetProperty("Processing step description").GetString());
        Assert.Equal("Specimen B Body Site", steps[0].GetProperty("Finding site").GetString());
        Assert.Equal("213", steps[1].GetProperty("Parent Specimen Identifier").GetString());
        Assert.Equal("456", steps[2].GetProperty("Parent Specimen Identifier").GetString());
        Assert.Equal("Staining", steps[3].GetProperty("Processing type").GetString());
        Assert.Equal("EE", steps[3].GetProperty("Using substance").GetString());

        // The slide itself, byte for byte, named in Content-Disposition; Pillow reads it as the same tiled TIFF.
        var (body, name, _) = await WholeSlideAsync(client, container);
        Assert.Equal(tiff, body);
        Assert.Equal("slide 1.tiff", name);

        // Sent again: the same instance, "already existed", nothing appended.
        var events = await EventLog.SettledCountAsync(fixture.ConnectionString);
        var again = await OkAsync(await client.PostAsync(Store, SlideFiles.Form(metadata, tiff, "slide 1.tiff")));
        Assert.Equal("already existed", again.GetProperty("message").GetString());
        Assert.Equal(sop, again.GetProperty("SOPInstanceUID").GetString());
        Assert.Equal(study, again.GetProperty("StudyInstanceUID").GetString());
        Assert.Equal(events, await EventLog.SettledCountAsync(fixture.ConnectionString));

        // The slide's blob is named by an event: the orphan sweep keeps it.
        await fixture.App.Services.GetRequiredService<OrphanBlobSweeper>().SweepOnceAsync(CancellationToken.None);
        Assert.True(BlobExists(tiff));
        Assert.Equal(tiff, (await WholeSlideAsync(client, container)).Body);
    }

    [Fact]
    public async Task A_MIRAX_zip_is_fingerprinted_by_its_index_and_served_as_a_zip_of_the_index_and_its_data_folder()
    {
        var client = await Client("patho-mirax");
        var container = Unique("MRX");
        var (zip, index, slideEntries) = SlideFiles.MiraxZip("CMU-1", seed: 2);
        var metadata = SlideFiles.Metadata(Unique("ACC"), container);

        var stored = await OkAsync(await client.PostAsync(Store, SlideFiles.Form(metadata, zip, "CMU-1.zip", "application/zip", SlideFiles.Sha1(index), zip.Length.ToString())));
        Assert.Equal("stored", stored.GetProperty("message").GetString());
        Assert.Equal("CMU-1.mrxs", stored.GetProperty("ReferencedFileID").GetString());

        var (body, name, type) = await WholeSlideAsync(client, container);
        Assert.Equal("CMU-1.zip", name);
        Assert.Equal("application/zip", type);
        using var served = new ZipArchive(new MemoryStream(body), ZipArchiveMode.Read);
        var files = served.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var content = new MemoryStream();
            e.Open().CopyTo(content);
            return content.ToArray();
        });
        Assert.Equal(slideEntries.Keys.Order(), files.Keys.Order()); // the .mrxs and its folder; the README stays out
        foreach (var (path, content) in slideEntries)
        {
            Assert.Equal(content, files[path]);
        }

        // The fingerprint of a MIRAX slide is the index's, not the zip's.
        var wrong = await client.PostAsync(Store, SlideFiles.Form(SlideFiles.Metadata(Unique("ACC"), Unique("MRX")), SlideFiles.MiraxZip("CMU-2", seed: 3).Zip, "CMU-2.zip", "application/zip", SlideFiles.Sha1(zip)));
        await AssertProblemAsync(wrong, HttpStatusCode.Conflict, "fileHash");
    }

    [Fact]
    public async Task An_archive_without_its_mrxs_index_is_400_and_keeps_nothing()
    {
        var client = await Client("patho-mirax-broken");
        var events = await EventLog.SettledCountAsync(fixture.ConnectionString);
        var (zip, _, _) = SlideFiles.MiraxZip("NOINDEX", withIndex: false, seed: 4);

        var response = await client.PostAsync(Store, SlideFiles.Form(SlideFiles.Metadata(Unique("ACC"), Unique("BOX")), zip, "NOINDEX.zip", "application/zip"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, ".mrxs");
        var notAZip = await client.PostAsync(Store, SlideFiles.Form(SlideFiles.Metadata(Unique("ACC"), Unique("BOX")), "not a zip at all"u8.ToArray(), "x.zip", "application/zip"));
        await AssertProblemAsync(notAZip, HttpStatusCode.BadRequest, "zip");
        Assert.False(BlobExists(zip));
        Assert.Equal(events, await EventLog.CountAsync(fixture.ConnectionString));
    }

    [Fact]
    public async Task A_wrong_fileHash_or_fileLength_is_409_and_keeps_neither_file_nor_event()
    {
        var client = await Client("patho-mismatch");
        var tiff = SlideFiles.TiledTiff(32, 32, seed: 5);
        var events = await EventLog.SettledCountAsync(fixture.ConnectionString);

        var badHash = await client.PostAsync(Store, SlideFiles.Form(SlideFiles.Metadata(Unique("ACC"), Unique("BOX")), tiff, "a.svs", fileHash: SlideFiles.Sha1([1, 2, 3])));
        await AssertProblemAsync(badHash, HttpStatusCode.Conflict, "fileHash");
        var badLength = await client.PostAsync(Store, SlideFiles.Form(SlideFiles.Metadata(Unique("ACC"), Unique("BOX")), tiff, "a.svs", fileLength: (tiff.Length + 1).ToString()));
        await AssertProblemAsync(badLength, HttpStatusCode.Conflict, "fileLength");

        Assert.False(BlobExists(tiff));
        Assert.Equal(events, await EventLog.CountAsync(fixture.ConnectionString));

        // The hash is compared without regard to case; the part order does not matter.
        var upper = await OkAsync(await client.PostAsync(Store, SlideFiles.Form(SlideFiles.Metadata(Unique("ACC"), Unique("BOX")), tiff, "a.svs", fileHash: SlideFiles.Sha1(tiff).ToUpperInvariant())));
        Assert.Equal("stored", upper.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Another_file_for_a_stored_slide_is_409_and_the_first_file_stays_served()
    {
        var client = await Client("patho-other-file");
        var container = Unique("BOX");
        var metadata = SlideFiles.Metadata(Unique("ACC"), container);
        var first = SlideFiles.TiledTiff(16, 16, seed: 6);
        await OkAsync(await client.PostAsync(Store, SlideFiles.Form(metadata, first, "s.tiff")));
        var events = await EventLog.SettledCountAsync(fixture.ConnectionString);

        var second = SlideFiles.TiledTiff(16, 16, seed: 7);
        await AssertProblemAsync(await client.PostAsync(Store, SlideFiles.Form(metadata, second, "s.tiff")), HttpStatusCode.Conflict, "another file");

        Assert.Equal(events, await EventLog.SettledCountAsync(fixture.ConnectionString));
        Assert.Equal(first, (await WholeSlideAsync(client, container)).Body);
    }

    [Fact]
    public async Task A_sidecar_wins_over_the_metadata_and_must_match_the_slide_type()
    {
        var first = await Client("patho-sidecar-a");
        var container = Unique("SIDE");
        var tiff = SlideFiles.TiledTiff(24, 24, seed: 8);
        var stored = await OkAsync(await first.PostAsync(Store, SlideFiles.Form(SlideFiles.Metadata(Unique("ACC"), container, patientId: "SIDE-PAT"), tiff, "side.ndpi")));
        var sidecar = await KeyObjectOracle.RetrieveAsync(first, stored.GetProperty("StudyInstanceUID").GetString()!, stored.GetProperty("SeriesInstanceUID").GetString()!, stored.GetProperty("SOPInstanceUID").GetString()!);

        // Sent with its sidecar to another archive (tenant): the sidecar's UIDs and patient, not the metadata's.
        var second = await Client("patho-sidecar-b");
        var contradicting = SlideFiles.Metadata(Unique("OTHER"), Unique("OTHER"), patientId: "METADATA-PAT");
        var again = await OkAsync(await second.PostAsync(Store, SlideFiles.Form(contradicting, tiff, "renamed.bin", sidecar: sidecar, fileHash: SlideFiles.Sha1(tiff))));
        Assert.Equal("stored", again.GetProperty("message").GetString());
        Assert.Equal(stored.GetProperty("SOPInstanceUID").GetString(), again.GetProperty("SOPInstanceUID").GetString());
        Assert.Equal(stored.GetProperty("StudyInstanceUID").GetString(), again.GetProperty("StudyInstanceUID").GetString());
        var (_, found) = await second.QidoAsync($"/dicomweb/instances?SOPInstanceUID={again.GetProperty("SOPInstanceUID").GetString()}");
        Assert.Equal("SIDE-PAT", Assert.Single(found.EnumerateArray()).Value("00100020"));
        var (body, name, _) = await WholeSlideAsync(second, container);
        Assert.Equal(tiff, body);
        Assert.Equal("side.ndpi", name); // the sidecar's ReferencedFileID names the file

        // The same sidecar again: already existed. With a MIRAX archive: the wrong slide type.
        Assert.Equal("already existed", (await OkAsync(await second.PostAsync(Store, SlideFiles.Form(null, tiff, "side.ndpi", sidecar: sidecar)))).GetProperty("message").GetString());
        var mirax = SlideFiles.MiraxZip("SIDEZIP", seed: 9).Zip;
        await AssertProblemAsync(await second.PostAsync(Store, SlideFiles.Form(null, mirax, "SIDEZIP.zip", "application/zip", sidecar: sidecar)), HttpStatusCode.BadRequest, "slide type");

        // A DICOM file that is not one of our slide instances is no sidecar.
        var ct = SyntheticInstances.Create().Bytes;
        await AssertProblemAsync(await second.PostAsync(Store, SlideFiles.Form(null, tiff, "x.svs", sidecar: ct)), HttpStatusCode.BadRequest, "sidecar");
        await AssertProblemAsync(await second.PostAsync(Store, SlideFiles.Form(null, tiff, "x.svs", sidecar: "garbage"u8.ToArray())), HttpStatusCode.BadRequest, "sidecar");
    }

    public static TheoryData<string, string> BadMetadata => new()
    {
        { """{"attributes":{"AccessionNumber":"A","ContainerIdentifier":"C"}}""", "PatientID" },
        { """{"attributes":{"PatientID":"P","ContainerIdentifier":"C"}}""", "AccessionNumber" },
        { """{"attributes":{"PatientID":"P","AccessionNumber":"A"}}""", "ContainerIdentifier" },
        { """{"attributes":{"PatientID":"P","AccessionNumber":"A","ContainerIdentifier":"C","NoSuchKeyword":"x"}}""", "NoSuchKeyword" },
        { """{"attributes":{"PatientID":"P","AccessionNumber":"A","ContainerIdentifier":"C","PatientName/PatientID":"x"}}""", "not a sequence" },
        { """{"attributes":{"PatientID":"P","AccessionNumber":"A","ContainerIdentifier":"C","PatientBirthDate":"yesterday"}}""", "date" },
        { """{"attributes":{"PatientID":"P","AccessionNumber":"A","ContainerIdentifier":"C","StudyInstanceUID":"1.2.abc"}}""", "UID" },
        { """{"attributes":{"PatientID":{"x":1},"AccessionNumber":"A","ContainerIdentifier":"C"}}""", "strings" },
        { """{"attributes":{"PatientID":"P","AccessionNumber":"A","ContainerIdentifier":"C"},"hierarchy":{"slide":"B-1"}}""", "hierarchy.slide" },
        { """not json""", "JSON" },
        { """[]""", "object" },
    };

    [Theory]
    [MemberData(nameof(BadMetadata))]
    public async Task Metadata_without_the_mandatory_attributes_or_with_bad_ones_is_400(string metadata, string detail)
    {
        var client = await Client("patho-bad-metadata");
        var events = await EventLog.SettledCountAsync(fixture.ConnectionString);
        var tiff = SlideFiles.TiledTiff(16, 16, seed: 10);

        await AssertProblemAsync(await client.PostAsync(Store, SlideFiles.Form(metadata, tiff, "a.tiff")), HttpStatusCode.BadRequest, detail);

        Assert.Equal(events, await EventLog.CountAsync(fixture.ConnectionString));
        Assert.False(BlobExists(tiff));
    }

    [Fact]
    public async Task The_documented_400s_of_the_request_itself()
    {
        var client = await Client("patho-bad-request");
        var tiff = SlideFiles.TiledTiff(16, 16, seed: 11);
        var metadata = SlideFiles.Metadata("ACC", "BOX");

        await AssertProblemAsync(await client.PostAsync("/o3-dpacs-wado/pathoRsListener/UNKNOWN_AE/studies", SlideFiles.Form(metadata, tiff, "a.tiff")), HttpStatusCode.BadRequest, "not a configured node");
        await AssertProblemAsync(await client.PostAsync("/o3-dpacs-wado/pathoRsListener/studies", SlideFiles.Form(metadata, tiff, "a.tiff")), HttpStatusCode.BadRequest, "CALLING_AET");
        await AssertProblemAsync(await client.PostAsync(Store, SlideFiles.Form(metadata, null, "a.tiff")), HttpStatusCode.BadRequest, "file part is missing");
        await AssertProblemAsync(await client.PostAsync(Store, SlideFiles.Form(null, tiff, "a.tiff")), HttpStatusCode.BadRequest, "metadata part");
        await AssertProblemAsync(await client.PostAsync(Store, SlideFiles.Form(metadata, [], "a.tiff")), HttpStatusCode.BadRequest, "empty");
        await AssertProblemAsync(await client.PostAsync(Store, SlideFiles.Form(metadata, tiff, "a.tiff", fileHash: "abc")), HttpStatusCode.BadRequest, "40 hexadecimal");
        await AssertProblemAsync(await client.PostAsync(Store, SlideFiles.Form(metadata, tiff, "a.tiff", fileLength: "-1")), HttpStatusCode.BadRequest, "fileLength");
        await AssertProblemAsync(await client.PostAsync(Store, Json.Body(metadata, "application/json")), HttpStatusCode.BadRequest, "multipart/form-data");
        var twice = SlideFiles.Form(metadata, tiff, "a.tiff");
        twice.Add(new StringContent(metadata), "metadata");
        await AssertProblemAsync(await client.PostAsync(Store, twice), HttpStatusCode.BadRequest, "twice");

        // A body cut off in the middle of the file part: 400, and the partial file is not kept.
        var events = await EventLog.SettledCountAsync(fixture.ConnectionString);
        var cut = new ByteArrayContent(System.Text.Encoding.ASCII.GetBytes(
            "--cut\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n" + metadata.ReplaceLineEndings(" ")
            + "\r\n--cut\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.svs\"\r\n\r\nII*\0partial tiff"));
        cut.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=cut");
        await AssertProblemAsync(await client.PostAsync(Store, cut), HttpStatusCode.BadRequest, "malformed");
        Assert.Equal(events, await EventLog.CountAsync(fixture.ConnectionString));
    }

    [Fact]
    public async Task Wholeslide_answers_400_404_and_409_as_documented()
    {
        var client = await Client("patho-wholeslide-errors");
        await AssertProblemAsync(await client.GetAsync("/o3-dpacs-wado/wholeslide"), HttpStatusCode.BadRequest, "barcode");
        await AssertProblemAsync(await client.GetAsync("/o3-dpacs-wado/wholeslide?barcode="), HttpStatusCode.BadRequest, "barcode");
        await AssertProblemAsync(await client.GetAsync("/o3-dpacs-wado/wholeslide?barcode=NO-SUCH-SLIDE"), HttpStatusCode.NotFound, "NO-SUCH-SLIDE");

        // Two slides under one barcode (two studies, the sender giving each its own SOP Instance UID).
        var container = Unique("TWICE");
        foreach (var seed in new[] { 12, 13 })
        {
            var metadata = SlideFiles.Metadata(Unique("ACC"), container, extraAttributes: $$""", "SOPInstanceUID": "{{DicomUid.Generate()}}" """);
            await OkAsync(await client.PostAsync(Store, SlideFiles.Form(metadata, SlideFiles.TiledTiff(16, 16, seed: seed), "t.tiff")));
        }

        await AssertProblemAsync(await client.GetAsync($"/o3-dpacs-wado/wholeslide?barcode={container}"), HttpStatusCode.Conflict, "2 whole slides");

        // Another tenant does not see them.
        var other = await Client("patho-wholeslide-other");
        await AssertProblemAsync(await other.GetAsync($"/o3-dpacs-wado/wholeslide?barcode={container}"), HttpStatusCode.NotFound, container);
    }

    [Fact]
    public async Task A_DICOM_whole_slide_is_served_as_its_highest_resolution_instance()
    {
        var client = await Client("patho-dicom-wsi");
        var container = Unique("WSI");
        var study = DicomUid.Generate();
        var series = DicomUid.Generate();
        var levels = new[] { (2048u, 1024u), (8192u, 4096u), (512u, 256u) }
            .Select(size => WholeSlideLevel(study, series, container, size.Item1, size.Item2))
            .ToList();
        var stow = await client.PostAsync("/dicomweb/studies", Multipart.Related([.. levels]));
        Assert.Equal(HttpStatusCode.OK, stow.StatusCode);

        var (body, name, type) = await WholeSlideAsync(client, container);

        Assert.Equal(levels[1], body);
        Assert.Equal("application/dicom", type);
        Assert.EndsWith(".dcm", name);
    }

    internal static byte[] WholeSlideLevel(string study, string series, string container, uint columns, uint rows)
    {
        var file = DicomReader.Read(SyntheticInstances.Create(study).Bytes);
        var ds = file.Dataset;
        ds.AddString(DicomTags.SeriesInstanceUID, DicomVR.UI, series);
        ds.AddString(DicomTags.SOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.77.1.6");
        ds.AddString(DicomTags.Modality, DicomVR.CS, "SM");
        ds.AddString(DicomTags.ContainerIdentifier, DicomVR.LO, container);
        ds.Set(new DicomElement(DicomTags.TotalPixelMatrixColumns, DicomVR.UL, BitConverter.GetBytes(columns)));
        ds.Set(new DicomElement(DicomTags.TotalPixelMatrixRows, DicomVR.UL, BitConverter.GetBytes(rows)));
        file.Meta.AddString(DicomTag.MediaStorageSOPClassUID, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.77.1.6");
        return DicomWriter.ToBytes(file);
    }

    [Fact]
    public async Task A_slide_deprecated_by_its_container_identifier_leaves_QIDO_and_wholeslide()
    {
        var client = await Client("patho-deprecation");
        var container = Unique("DEP");
        var stored = await OkAsync(await client.PostAsync(Store, SlideFiles.Form(SlideFiles.Metadata(Unique("ACC"), container), SlideFiles.TiledTiff(16, 16, seed: 14), "d.tiff")));
        var study = stored.GetProperty("StudyInstanceUID").GetString()!;

        // The feed lists the stored instance like any other.
        await Eventually.Until(
            () => client.GetStringAsync("/dicomweb/changefeed"),
            feed => feed.Contains(stored.GetProperty("SOPInstanceUID").GetString()!, StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the change feed to list the slide");

        var deprecation = await client.PostAsync("/o3-dpacs-wado/series/deprecation", Json.Body($$"""{"containerIdentifier":"{{container}}","author":"a","reason":"wrong slide"}"""));
        Assert.Equal(HttpStatusCode.OK, deprecation.StatusCode);
        await Eventually.Until(
            async () => (await client.GetAsync($"/o3-dpacs-wado/wholeslide?barcode={container}")).StatusCode,
            status => status == HttpStatusCode.NotFound, TimeSpan.FromSeconds(30), "the deprecation to hide the slide");
        var (_, found) = await client.QidoAsync($"/dicomweb/studies/{study}/instances?Modality=SM");
        Assert.True(found.ValueKind != JsonValueKind.Array || found.GetArrayLength() == 0);
    }

    [Fact]
    public async Task Rebuilding_the_slide_file_and_blob_reference_projections_from_the_log_reproduces_them()
    {
        var client = await Client("patho-rebuild");
        var container = Unique("RB");
        var tiff = SlideFiles.TiledTiff(16, 16, seed: 15);
        await OkAsync(await client.PostAsync(Store, SlideFiles.Form(SlideFiles.Metadata(Unique("ACC"), container), tiff, "rb.svs")));
        await OkAsync(await client.PostAsync(Store, SlideFiles.Form(SlideFiles.Metadata(Unique("ACC"), Unique("RB")), SlideFiles.MiraxZip("RB-MRX", seed: 16).Zip, "RB-MRX.zip", "application/zip")));
        string[] tables = ["mt_doc_wholeslidefile", "mt_doc_referencedblob"];
        var live = await ReadModelTables.RowsAsync(fixture.ConnectionString, tables);
        Assert.True(live[0].Count >= 2, "the slide files are projected");

        await ReadModelTables.ClearAsync(fixture.ConnectionString, tables);
        using var daemon = await fixture.App.Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<WholeSlideFileProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<ReferencedBlobProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal(live, await ReadModelTables.RowsAsync(fixture.ConnectionString, tables));
        Assert.Equal(tiff, (await WholeSlideAsync(client, container)).Body);
    }
}
