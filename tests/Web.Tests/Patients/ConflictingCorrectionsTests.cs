using System.Net;
using EventSourced.Projections.Patients;
using EventSourced.Projections.Qido;
using EventSourced.Web.Tests.Rebuild;
using EventSourced.Web.Tests.Support;
using Marten;
using static EventSourced.Web.Tests.Patients.PatientSupport;

namespace EventSourced.Web.Tests.Patients;

/// <summary>
/// Twenty conflicting corrections at once (merges both ways, moves of one study to different patients, a
/// deprecation of a study being moved): one winner per conflicting pair, the others a documented 409 or a
/// serialisation in some order, and no read model that disagrees with the log afterwards.
/// </summary>
public sealed class ConflictingCorrectionsTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "races";

    [Fact]
    public async Task Twenty_concurrent_conflicting_corrections_end_in_one_consistent_state_that_the_log_rebuilds()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        for (var i = 0; i < 5; i++)
        {
            await StowStudyAsync(client, $"RA-{i}", $"LEFT^{i}");
            await StowStudyAsync(client, $"RB-{i}", $"RIGHT^{i}");
        }

        var (moved, _, _) = await StowStudyAsync(client, "RM", "MOVED^MARY");
        var (deprecated, _, _) = await StowStudyAsync(client, "RD", "DEPRECATED^DAN", series: 2);

        // 10: five pairs of merges A→B and B→A. 5: one study moved to five patients. 5: a study deprecated while moved to four.
        var merges = Enumerable.Range(0, 5).SelectMany(i => new[]
        {
            (Pair: i, Request: PostAsync(client, "patients/merge", $$"""{"sourcePatientID":"RA-{{i}}","targetPatientID":"RB-{{i}}","userName":"u"}""")),
            (Pair: i, Request: PostAsync(client, "patients/merge", $$"""{"sourcePatientID":"RB-{{i}}","targetPatientID":"RA-{{i}}","userName":"u"}""")),
        }).ToList();
        var moves = Enumerable.Range(0, 5).Select(i =>
            PostAsync(client, "studies/move", $$"""{"studyInstanceUid":"{{moved}}","targetPatientID":"RM-{{i}}","patientName":"M^{{i}}","userName":"u"}""")).ToList();
        var deprecation = PostAsync(client, "studies/deprecation", $$"""{"studyInstanceUid":"{{deprecated}}","author":"JaneDoe","reason":"Wrong study"}""");
        var movesOfDeprecated = Enumerable.Range(0, 4).Select(i =>
            PostAsync(client, "studies/move", $$"""{"studyInstanceUid":"{{deprecated}}","targetPatientID":"RD-{{i}}","patientName":"D^{{i}}","userName":"u"}""")).ToList();
        await Task.WhenAll([.. merges.Select(m => m.Request), .. moves, deprecation, .. movesOfDeprecated]);
        var mergeStatuses = (await Task.WhenAll(merges.Select(m => m.Request))).Select(r => r.StatusCode).ToList();
        var moveStatuses = (await Task.WhenAll(moves)).Select(r => r.StatusCode).ToList();
        var deprecationStatus = (await deprecation).StatusCode;
        var movesOfDeprecatedStatuses = (await Task.WhenAll(movesOfDeprecated)).Select(r => r.StatusCode).ToList();

        // Each pair of opposite merges: exactly one wins, the other is the documented 409 (its source is merged).
        foreach (var pair in merges.Select((m, index) => (m.Pair, Status: mergeStatuses[index])).GroupBy(m => m.Pair))
        {
            var statuses = pair.Select(m => m.Status).ToList();
            Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.OK));
            Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.Conflict));
        }

        // Moves of one study serialise: each wins in turn; the deprecation and the moves of its study serialise too.
        Assert.All(moveStatuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(HttpStatusCode.OK, deprecationStatus);
        Assert.All(movesOfDeprecatedStatuses, status => Assert.Contains(status, new[] { HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.Conflict }));

        await Eventually.Until(
            async () => (await client.GetAsync($"/dicomweb/studies/{deprecated}/metadata")).StatusCode,
            status => status == HttpStatusCode.NotFound, TimeSpan.FromSeconds(30), "the study deprecation to complete");

        await using (var session = fixture.App.Store.QuerySession(Tenant))
        {
            var patients = await session.Query<PatientRecord>().ToListAsync();
            for (var i = 0; i < 5; i++)
            {
                // One of the two is merged into the other, never both into each other.
                var a = Assert.Single(patients, p => p.PatientId == $"RA-{i}");
                var b = Assert.Single(patients, p => p.PatientId == $"RB-{i}");
                Assert.True((a.MergedIntoPatientId, b.MergedIntoPatientId) is ({ }, null) or (null, { }), $"pair {i}: {a.MergedIntoPatientId} / {b.MergedIntoPatientId}");
                var survivor = a.MergedIntoPatientId is null ? a : b;
                Assert.Equal(2, survivor.StudyInstanceUids.Count);
            }

            // Every study is held by exactly one patient, and QIDO shows that patient.
            foreach (var study in await session.Query<QidoStudy>().Select(x => x.StudyInstanceUid).ToListAsync())
            {
                var holder = Assert.Single(patients, p => p.StudyInstanceUids.Contains(study));
                var qido = await session.Query<QidoStudy>().SingleAsync(x => x.StudyInstanceUid == study);
                Assert.Equal(holder.PatientId, qido.PatientId);
            }

            Assert.StartsWith("RM-", Assert.Single(patients, p => p.StudyInstanceUids.Contains(moved)).PatientId);
        }

        // No read model disagrees with the log.
        var verification = await RebuildEqualsLiveTests.VerifyAsync(fixture.App);
        Assert.True(verification.Differences.Count == 0, string.Join('\n', verification.Differences));
    }
}
