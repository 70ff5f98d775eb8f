using System.IO.Compression;
using System.Net;
using System.Text.Json;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Support;
using static EventSourced.Web.Tests.Patients.PatientSupport;

namespace EventSourced.Web.Tests.Pathology;

/// <summary>
/// A slide whose series moves (document e's studies/reconcile and studies/swap, and their undo) keeps its
/// slide file: wholeslide serves it under its barcode from wherever the series went, and deprecation by
/// container identifier still finds it there.
/// </summary>
public sealed class PathologySeriesMoveTests(PathologyFixture fixture) : IClassFixture<PathologyFixture>
{
    private const string Store = $"/o3-dpacs-wado/pathoRsListener/{PathologyFixture.Node}/studies";

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}";

    private static async Task<string> UploadAsync(HttpClient client, string patient, string container, byte[] file, string fileName, string? type = null) =>
        (await OkJsonAsync(await client.PostAsync(Store, SlideFiles.Form(SlideFiles.Metadata(Unique("ACC"), container, patient), file, fileName, type))))
            .GetProperty("StudyInstanceUID").GetString()!;

    private static Task<(HttpStatusCode Status, byte[] Body)> WholeSlideAsync(HttpClient client, string barcode) =>
        Eventually.Until(
            async () =>
            {
                var response = await client.GetAsync($"/o3-dpacs-wado/wholeslide?barcode={Uri.EscapeDataString(barcode)}");
                return (response.StatusCode, await response.Content.ReadAsByteArrayAsync());
            },
            r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), $"wholeslide to serve {barcode}");

    private static async Task<List<string>> SlideStudiesAsync(HttpClient client, string container)
    {
        var (_, found) = await client.QidoAsync("/dicomweb/instances?Modality=SM&includefield=00400512");
        return found.ValueKind == JsonValueKind.Array
            ? [.. found.EnumerateArray().Where(i => i.Value("00400512") == container).Select(i => i.Value("0020000D")!)]
            : [];
    }

    [Fact]
    public async Task A_reconciled_slide_is_served_from_its_new_study_after_undo_and_a_second_move_and_is_deprecated_there_by_its_container()
    {
        var client = await fixture.App.ClientForTenantAsync("patho-reconcile");
        var (container, other) = (Unique("RC"), Unique("RC-MRX"));
        var tiff = SlideFiles.TiledTiff(32, 16, seed: 31);
        var (zip, index, _) = SlideFiles.MiraxZip("RC-MRX", seed: 32);
        var source = await UploadAsync(client, "RC-P1", container, tiff, "rc.svs");
        var existing = await UploadAsync(client, "RC-P2", other, zip, "RC-MRX.zip", "application/zip");
        Assert.Equal(tiff, (await WholeSlideAsync(client, container)).Body);

        // Reconcile into a new study: the slide is shown there, and wholeslide still serves its file.
        var target = EventSourced.Dicom.DicomUid.Generate();
        var reconcile = await OkJsonAsync(await PostAsync(client, "studies/reconcile",
            $$"""{"sourceStudyInstanceUID":"{{source}}","targetStudyInstanceUID":"{{target}}","patientID":"RC-NEW","userName":"operator"}"""));
        Assert.Equal([target], await SlideStudiesAsync(client, container));
        Assert.Equal(tiff, (await WholeSlideAsync(client, container)).Body);

        // Undo: back in its own study, served.
        await OkJsonAsync(await PostAsync(client, $"corrections/{reconcile.GetProperty("correctionId").GetString()}/undo", """{"userName":"operator"}"""));
        Assert.Equal([source], await SlideStudiesAsync(client, container));
        Assert.Equal(tiff, (await WholeSlideAsync(client, container)).Body);

        // Reconcile into the study of another (MIRAX) slide: both are served from it.
        await OkJsonAsync(await PostAsync(client, "studies/reconcile",
            $$"""{"sourceStudyInstanceUID":"{{source}}","targetStudyInstanceUID":"{{existing}}","patientID":"RC-P2","userName":"operator"}"""));
        Assert.Equal([existing], await SlideStudiesAsync(client, container));
        Assert.Equal(tiff, (await WholeSlideAsync(client, container)).Body);
        using (var served = new ZipArchive(new MemoryStream((await WholeSlideAsync(client, other)).Body), ZipArchiveMode.Read))
        {
            await using var entry = await served.GetEntry("RC-MRX.mrxs")!.OpenAsync();
            Assert.Equal(SlideFiles.Sha1(index), Convert.ToHexStringLower(await System.Security.Cryptography.SHA1.HashDataAsync(entry)));
        }

        // Deprecation by container identifier finds the moved slide: it leaves QIDO and wholeslide; the other slide stays.
        var deprecation = await client.PostAsync("/o3-dpacs-wado/series/deprecation", Json.Body($$"""{"containerIdentifier":"{{container}}","author":"a","reason":"wrong slide"}"""));
        Assert.Equal(HttpStatusCode.OK, deprecation.StatusCode);
        await Eventually.Until(
            async () => (await client.GetAsync($"/o3-dpacs-wado/wholeslide?barcode={container}")).StatusCode,
            status => status == HttpStatusCode.NotFound, TimeSpan.FromSeconds(30), "the deprecation to hide the moved slide");
        Assert.Empty(await SlideStudiesAsync(client, container));
        Assert.Equal(HttpStatusCode.OK, (await WholeSlideAsync(client, other)).Status);
    }

    [Fact]
    public async Task Swapped_slides_are_each_served_from_the_other_study_and_again_after_undo()
    {
        var client = await fixture.App.ClientForTenantAsync("patho-swap");
        var (first, second) = (Unique("SW1"), Unique("SW2"));
        var (tiff1, tiff2) = (SlideFiles.TiledTiff(16, 16, seed: 33), SlideFiles.TiledTiff(16, 32, seed: 34));
        var a = await UploadAsync(client, "SW-P1", first, tiff1, "sw1.tiff");
        var b = await UploadAsync(client, "SW-P2", second, tiff2, "sw2.tiff");

        var swap = await OkJsonAsync(await PostAsync(client, "studies/swap",
            $$"""{"sourceStudyInstanceUID":"{{a}}","targetStudyInstanceUID":"{{b}}","userName":"u"}"""));
        Assert.Equal([b], await SlideStudiesAsync(client, first));
        Assert.Equal([a], await SlideStudiesAsync(client, second));
        Assert.Equal(tiff1, (await WholeSlideAsync(client, first)).Body);
        Assert.Equal(tiff2, (await WholeSlideAsync(client, second)).Body);

        await OkJsonAsync(await PostAsync(client, $"corrections/{swap.GetProperty("correctionId").GetString()}/undo", "{}"));
        Assert.Equal([a], await SlideStudiesAsync(client, first));
        Assert.Equal(tiff1, (await WholeSlideAsync(client, first)).Body);
        Assert.Equal(tiff2, (await WholeSlideAsync(client, second)).Body);
    }
}
