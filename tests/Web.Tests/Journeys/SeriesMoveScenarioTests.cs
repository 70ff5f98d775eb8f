using System.Net;
using System.Text.Json;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Studies;
using EventSourced.Web.Tests.Support;
using static EventSourced.Web.Tests.Patients.PatientSupport;
using static EventSourced.Web.Tests.Studies.SeriesMoveSupport;

namespace EventSourced.Web.Tests.Journeys;

/// <summary>
/// Two patients received as real DICOM files; merge, move one study back, reconcile two studies, swap the
/// series of two studies, deprecate a series, undo the merge. After each step every read path (QIDO-RS,
/// WADO-RS metadata, the WADO-RS bytes as pydicom reads them, document e's studyInstances, document d's
/// series list) shows what the step means; the expectation is written from the step, not read back.
/// </summary>
public sealed class SeriesMoveScenarioTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Merge_move_back_reconcile_swap_deprecate_and_undo_agree_on_every_read_path_after_each_step()
    {
        var client = await fixture.App.ClientForTenantAsync("series-scenario");
        var a1 = await StowAsync(client, "SS-A", "ALPHA^ANN", "ACC-A1", "Head CT", series: 2, perSeries: 2);
        var a2 = await StowAsync(client, "SS-A", "ALPHA^ANN", "ACC-A2", "Chest CT");
        var b1 = await StowAsync(client, "SS-B", "BETA^BOB", "ACC-B1", "Knee CT", perSeries: 2);
        var b2 = await StowAsync(client, "SS-B", "BETA^BOB", "ACC-B2", "Knee CT", series: 2);

        var views = new Dictionary<string, ExpectedStudy>
        {
            [a1.Study] = Expect("SS-A", "ALPHA^ANN", "ACC-A1", (a1.Series[0], a1.Sops[..2]), (a1.Series[1], a1.Sops[2..])),
            [a2.Study] = Expect("SS-A", "ALPHA^ANN", "ACC-A2", (a2.Series[0], a2.Sops)),
            [b1.Study] = Expect("SS-B", "BETA^BOB", "ACC-B1", (b1.Series[0], b1.Sops)),
            [b2.Study] = Expect("SS-B", "BETA^BOB", "ACC-B2", (b2.Series[0], [b2.Sops[0]]), (b2.Series[1], [b2.Sops[1]])),
        };

        // Document d lists a study under the patient it is filed under now (merges and moves included);
        // a study that left every read path is looked for under the patient it last had.
        var gone = new Dictionary<string, string>();
        async Task CheckAsync()
        {
            foreach (var (study, view) in views)
            {
                await AssertShowsAsync(client, study, view, view.PatientId);
            }

            foreach (var (study, patientId) in gone)
            {
                await AssertGoneAsync(client, study, patientId);
            }
        }

        await CheckAsync();

        // 1. Merge SS-A into SS-B: both studies of SS-A are SS-B's.
        var merge = await OkJsonAsync(await PostAsync(client, "patients/merge", """{"sourcePatientID":"SS-A","targetPatientID":"SS-B","userName":"john"}"""));
        views[a1.Study] = views[a1.Study] with { PatientId = "SS-B", PatientName = "BETA^BOB" };
        views[a2.Study] = views[a2.Study] with { PatientId = "SS-B", PatientName = "BETA^BOB" };
        await CheckAsync();

        // 2. Move a1 back to SS-A.
        await OkJsonAsync(await PostAsync(client, "studies/move",
            $$"""{"studyInstanceUid":"{{a1.Study}}","targetPatientID":"SS-A","patientName":"ALPHA^ANN","userName":"john"}"""));
        views[a1.Study] = views[a1.Study] with { PatientId = "SS-A", PatientName = "ALPHA^ANN" };
        await CheckAsync();

        // 3. Reconcile b1 into b2 (same patient): b1's series join b2, which keeps its own attributes; b1 leaves every read path.
        await OkJsonAsync(await PostAsync(client, "studies/reconcile",
            $$"""{"sourceStudyInstanceUID":"{{b1.Study}}","targetStudyInstanceUID":"{{b2.Study}}","patientID":"SS-B","accessionNumber":"IGNORED","userName":"john"}"""));
        views[b2.Study] = views[b2.Study] with { Series = new Dictionary<string, string[]>(views[b2.Study].Series) { [b1.Series[0]] = b1.Sops } };
        gone[b1.Study] = views[b1.Study].PatientId;
        views.Remove(b1.Study);
        await CheckAsync();

        // 4. Swap a1 (SS-A) and a2 (SS-B by the merge): each study keeps its patient and accession number and shows the other's series.
        await OkJsonAsync(await PostAsync(client, "studies/swap",
            $$"""{"sourceStudyInstanceUID":"{{a1.Study}}","targetStudyInstanceUID":"{{a2.Study}}","userName":"john"}"""));
        (views[a1.Study], views[a2.Study]) = (views[a1.Study] with { Series = views[a2.Study].Series }, views[a2.Study] with { Series = views[a1.Study].Series });
        await CheckAsync();

        // 5. Deprecate one of the series a2 received by the swap: it leaves a2, and a2 holds the rejection note (a KO series of one instance).
        await OkJsonAsync(await PostAsync(client, "series/deprecation", $$"""{"seriesInstanceUid":"{{a1.Series[0]}}","author":"JaneDoe","reason":"Wrong series"}"""));
        await Eventually.Until(
            async () => (await client.GetAsync($"/dicomweb/studies/{a2.Study}/series/{a1.Series[0]}/metadata")).StatusCode,
            status => status == HttpStatusCode.NotFound, TimeSpan.FromSeconds(30), "the deprecation to complete");
        var ko = JsonDocument.Parse(await (await client.GetAsync($"/dicomweb/studies/{a2.Study}/series?Modality=KO")).Content.ReadAsStringAsync()).RootElement;
        var koSeries = Assert.Single(ko.EnumerateArray()).Value("0020000E")!;
        var koInstances = JsonDocument.Parse(await (await client.GetAsync($"/dicomweb/studies/{a2.Study}/series/{koSeries}/instances")).Content.ReadAsStringAsync()).RootElement;
        var koSop = Assert.Single(koInstances.EnumerateArray()).Value("00080018")!;
        views[a2.Study] = views[a2.Study] with
        {
            Series = new Dictionary<string, string[]> { [a1.Series[1]] = a1.Sops[2..], [koSeries] = [koSop] },
            NotInArchive = new HashSet<string> { koSeries },
        };
        await CheckAsync();

        // 6. Undo the merge: a2 is SS-A's again (with the series it holds now); a1 stays where the later move put it (named in the answer).
        var undo = await OkJsonAsync(await PostAsync(client, $"corrections/{merge.GetProperty("correctionId").GetString()}/undo", """{"userName":"john"}"""));
        Assert.Equal([a1.Study], undo.GetProperty("skippedStudies").EnumerateArray().Select(e => e.GetString()!));
        views[a2.Study] = views[a2.Study] with { PatientId = "SS-A", PatientName = "ALPHA^ANN" };
        await CheckAsync();
        Assert.Equal(new[] { a1.Study, a2.Study }.Order(), await QidoStudiesOfAsync(client, "SS-A"));
        Assert.Equal([b2.Study], await QidoStudiesOfAsync(client, "SS-B"));
    }
}
