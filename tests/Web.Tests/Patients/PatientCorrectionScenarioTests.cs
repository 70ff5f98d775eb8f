using System.Net;
using System.Text.Json;
using EventSourced.Projections.Patients;
using EventSourced.Projections.Qido;
using EventSourced.Web.Tests.Support;
using Marten;
using static EventSourced.Web.Tests.Patients.PatientSupport;

namespace EventSourced.Web.Tests.Patients;

/// <summary>
/// Two patients received as real DICOM files; merge, move back, undo. After each step every read path
/// (QIDO, WADO-RS metadata, the WADO-RS bytes as DCMTK reads them, document e's studyInstances) says
/// what the step should produce; an undo gives back exactly what was shown before.
/// </summary>
public sealed class PatientCorrectionScenarioTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Merge_move_back_and_undo_show_the_corrected_identity_everywhere_and_undo_restores_the_exact_view()
    {
        var client = await fixture.App.ClientForTenantAsync("scenario");
        var (a1, _, _) = await StowStudyAsync(client, "SC-A", "ALPHA^ANN", issuer: "HOSP", series: 2);
        var (a2, _, _) = await StowStudyAsync(client, "SC-A", "ALPHA^ANN", issuer: "HOSP");
        var (b1, _, _) = await StowStudyAsync(client, "SC-B", "BETA^BOB");
        var before = new Dictionary<string, string>();
        foreach (var s in new[] { a1, a2, b1 })
        {
            before[s] = await SnapshotAsync(client, s);
        }

        // Merge A into B: every study of A is B's, on every read path; A is marked, not erased.
        var merge = await OkJsonAsync(await PostAsync(client, "patients/merge",
            """{"sourcePatientID":"SC-A","targetPatientID":"SC-B","patientName":"IGNORED^FOR^EXISTING","operatorName":"op","userName":"john"}"""));
        var mergeId = merge.GetProperty("correctionId").GetString();
        Assert.Equal(new[] { a1, a2, b1 }.Order().ToArray(), await QidoStudiesOfAsync(client, "SC-B"));
        Assert.Empty(await QidoStudiesOfAsync(client, "SC-A"));
        Assert.All(await MetadataPatientIdsAsync(client, a1), id => Assert.Equal("SC-B", id));
        var served = await WadoPatientsByDcmdumpAsync(client, a1);
        Assert.Equal(2, served.Count);
        Assert.All(served, p => Assert.Equal(("SC-B", "BETA^BOB", (string?)null), p));
        Assert.Equal(before[b1], await SnapshotAsync(client, b1));
        await using (var session = fixture.App.Store.QuerySession("scenario"))
        {
            var source = await session.Query<PatientRecord>().SingleAsync(x => x.PatientId == "SC-A");
            Assert.Equal("SC-B", source.MergedIntoPatientId);
            Assert.Empty(source.StudyInstanceUids);
        }

        // An instance received later for the old identity is filed under the survivor.
        var (late, _, _) = await StowStudyAsync(client, "SC-A", "ALPHA^ANN", issuer: "HOSP");
        Assert.Contains(late, await QidoStudiesOfAsync(client, "SC-B"));
        Assert.All(await WadoPatientsByDcmdumpAsync(client, late), p => Assert.Equal("SC-B", p.Id));

        // Move a1 back to A.
        await OkJsonAsync(await PostAsync(client, "studies/move",
            $$"""{"studyInstanceUid":"{{a1}}","targetPatientID":"SC-A","patientName":"ALPHA^ANN","userName":"john"}"""));
        Assert.Equal(new[] { a1 }, await QidoStudiesOfAsync(client, "SC-A"));
        Assert.All(await WadoPatientsByDcmdumpAsync(client, a1), p => Assert.Equal(("SC-A", "ALPHA^ANN", "HOSP"), p));

        // Undo the merge: a2 is back exactly as it was; a1 stays where the later move put it (named in the answer).
        var undo = await OkJsonAsync(await PostAsync(client, $"corrections/{mergeId}/undo", """{"userName":"john"}"""));
        Assert.Equal(new[] { a1 }, undo.GetProperty("skippedStudies").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal(before[a2], await SnapshotAsync(client, a2));
        Assert.Equal(before[b1], await SnapshotAsync(client, b1));
        Assert.Equal(new[] { a1, a2 }.Order().ToArray(), await QidoStudiesOfAsync(client, "SC-A"));
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(client, $"corrections/{mergeId}/undo", "{}")).StatusCode);
        await using (var session = fixture.App.Store.QuerySession("scenario"))
        {
            var source = await session.Query<PatientRecord>().SingleAsync(x => x.PatientId == "SC-A");
            Assert.Null(source.MergedIntoPatientId);
        }
    }

    [Fact]
    public async Task Instance_searches_show_each_header_with_its_study_s_patient_after_a_merge()
    {
        var client = await fixture.App.ClientForTenantAsync("instances-corrected");
        var (a, _, _) = await StowStudyAsync(client, "IC-A", "ALPHA^ANN", series: 2, instancesPerSeries: 2);
        var (b, _, _) = await StowStudyAsync(client, "IC-B", "BETA^BOB");
        await OkJsonAsync(await PostAsync(client, "patients/merge", """{"sourcePatientID":"IC-A","targetPatientID":"IC-N","patientName":"NEW^NAME","userName":"u"}"""));

        // The corrected study's instances, by the study in the path and by the new patient ID (a study-level match),
        // and one answer holding both studies' instances: each header shows its own study's patient.
        Assert.All(Patients(await PatientErasureTests.QidoAsync(client, $"/dicomweb/studies/{a}/instances?includefield=00100010,00100020")),
            p => Assert.Equal(("IC-N", "NEW^NAME"), p));
        Assert.Equal(4, Patients(await PatientErasureTests.QidoAsync(client, "/dicomweb/instances?PatientID=IC-N&includefield=all")).Count(p => p == ("IC-N", "NEW^NAME")));
        var all = await PatientErasureTests.QidoAsync(client, "/dicomweb/instances?includefield=00100010,00100020&limit=100");
        Assert.Equal(new (string?, int)[] { ("BETA^BOB", 1), ("NEW^NAME", 4) }, Patients(all).GroupBy(p => p.Name).Select(g => (g.Key, g.Count())).Order().ToArray());
        Assert.All(all.EnumerateArray().Where(r => Value(r, "0020000D") == b), r => Assert.Equal("IC-B", Value(r, "00100020")));

        static (string? Id, string? Name)[] Patients(JsonElement results) =>
            [.. results.EnumerateArray().Select(r => (Value(r, "00100020"), r.GetProperty("00100010").GetProperty("Value")[0].GetProperty("Alphabetic").GetString()))];

        static string? Value(JsonElement result, string tag) => result.GetProperty(tag).GetProperty("Value")[0].GetString();
    }

    [Fact]
    public async Task Undoing_a_merge_or_a_move_shows_exactly_what_was_shown_before()
    {
        var client = await fixture.App.ClientForTenantAsync("undo-exact");
        var (a, _, _) = await StowStudyAsync(client, "UX-A", "ALPHA^ANN", series: 2, instancesPerSeries: 2);
        var (b, _, _) = await StowStudyAsync(client, "UX-B", "BETA^BOB");
        var beforeA = await SnapshotAsync(client, a);
        var beforeB = await SnapshotAsync(client, b);
        var bytesBefore = await WadoPatientsByDcmdumpAsync(client, a);

        var merge = await OkJsonAsync(await PostAsync(client, "patients/merge", """{"sourcePatientID":"UX-A","targetPatientID":"UX-NEW","patientName":"NEW^PATIENT","patientSex":"O","userName":"u"}"""));
        Assert.NotEqual(beforeA, await SnapshotAsync(client, a));
        Assert.Equal(new[] { a }, await QidoStudiesOfAsync(client, "UX-NEW"));
        await OkJsonAsync(await PostAsync(client, $"corrections/{merge.GetProperty("correctionId").GetString()}/undo", ""));
        Assert.Equal(beforeA, await SnapshotAsync(client, a));
        Assert.Equal(bytesBefore, await WadoPatientsByDcmdumpAsync(client, a));

        var move = await OkJsonAsync(await PostAsync(client, "studies/move", $$"""{"studyInstanceUid":"{{b}}","targetPatientID":"UX-A","patientName":"X^Y","userName":"u"}"""));
        Assert.Equal(new[] { a, b }.Order().ToArray(), await QidoStudiesOfAsync(client, "UX-A"));
        await OkJsonAsync(await PostAsync(client, $"corrections/{move.GetProperty("correctionId").GetString()}/undo", "{}"));
        Assert.Equal(beforeB, await SnapshotAsync(client, b));
        Assert.Equal(new[] { a }, await QidoStudiesOfAsync(client, "UX-A"));
    }

    [Fact]
    public async Task Twenty_concurrent_merges_and_moves_end_in_one_consistent_state_that_a_rebuild_reproduces()
    {
        var client = await fixture.App.ClientForTenantAsync("corrections-race");
        var (a, _, _) = await StowStudyAsync(client, "RC-A", "ALPHA^ANN");
        var (b, _, _) = await StowStudyAsync(client, "RC-B", "BETA^BOB");

        // Ten merges of A into ten targets (only one can win: A can be merged once) and ten moves of b.
        var merges = Enumerable.Range(0, 10).Select(i => PostAsync(client, "patients/merge",
            $$"""{"sourcePatientID":"RC-A","targetPatientID":"RC-T{{i}}","patientName":"T^{{i}}","userName":"u"}"""));
        var moves = Enumerable.Range(0, 10).Select(i => PostAsync(client, "studies/move",
            $$"""{"studyInstanceUid":"{{b}}","targetPatientID":"RC-M{{i}}","patientName":"M^{{i}}","userName":"u"}"""));
        var mergeResponses = await Task.WhenAll(merges);
        var moveResponses = await Task.WhenAll(moves);
        Assert.Equal(1, mergeResponses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(9, mergeResponses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.All(moveResponses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode)); // moves serialise: each wins in turn

        await using (var session = fixture.App.Store.QuerySession("corrections-race"))
        {
            var patients = await session.Query<PatientRecord>().ToListAsync();
            foreach (var study in new[] { a, b })
            {
                // Exactly one patient holds each study, and QIDO shows that patient.
                var holder = Assert.Single(patients, p => p.StudyInstanceUids.Contains(study));
                var qido = await session.Query<QidoStudy>().SingleAsync(x => x.StudyInstanceUid == study);
                Assert.Equal(holder.PatientId, qido.PatientId);
                Assert.Equal(holder.PatientName, qido.PatientName);
            }

            var merged = Assert.Single(patients, p => p.MergedIntoPatientId is not null);
            Assert.Equal("RC-A", merged.PatientId);
        }

        // No read model disagrees with the log: a rebuild reproduces them exactly.
        string[] tables = ["mt_doc_patientrecord", "mt_doc_qidostudy"];
        var live = await ReadModelTables.RowsAsync(fixture.ConnectionString, tables);
        await ReadModelTables.ClearAsync(fixture.ConnectionString, tables);
        using var daemon = await fixture.App.Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<PatientRecordProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<QidoStudyProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Equal(live, await ReadModelTables.RowsAsync(fixture.ConnectionString, tables));
    }
}
