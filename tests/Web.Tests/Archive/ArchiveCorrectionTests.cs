using System.Net;
using EventSourced.Web.Tests.Support;
using static EventSourced.Web.Tests.Archive.ArchiveSupport;

namespace EventSourced.Web.Tests.Archive;

/// <summary>Document d's patient, study and series lists and gets follow document e's merge and move (and their undo).</summary>
public sealed class ArchiveCorrectionTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private static async Task OkAsync(HttpClient client, string path, string json)
    {
        var response = await client.PostAsync("/o3-dpacs-wado/" + path, Json.Body(json));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task<string[]> StudiesOfAsync(HttpClient client, string patient)
    {
        var response = await client.GetAsync("/api/v1/patient/studies/list/" + Query(("Project", "proj"), ("Archive", "arch"), ("PatientID", patient)));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await AssertErrorAsync(response, 404, "object_not_found", "patient_not_found");
            return [];
        }

        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return [.. body.EnumerateArray().Select(s => s.GetProperty("StudyInstanceUID").GetString()!).Order()];
    }

    [Fact]
    public async Task After_a_merge_the_study_lists_under_the_surviving_patient_and_a_move_takes_it_along()
    {
        var client = await fixture.App.ClientForTenantAsync("archive-corrections");
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var (a, b, c) = ($"DM-A-{suffix}", $"DM-B-{suffix}", $"DM-C-{suffix}");
        var fromA = Create(a, attributes: [("PatientName", EventSourced.Dicom.DicomVR.PN, "ALPHA^ANN")]);
        var fromB = Create(b, attributes: [("PatientName", EventSourced.Dicom.DicomVR.PN, "BETA^BOB")]);
        await client.UploadOkAsync(fromA.Bytes, "proj", "arch");
        await client.UploadOkAsync(fromB.Bytes, "proj", "arch");

        await OkAsync(client, "patients/merge", $$"""{"sourcePatientID":"{{a}}","targetPatientID":"{{b}}","userName":"john"}""");

        Assert.Equal(new[] { fromA.Study, fromB.Study }.Order(), await StudiesOfAsync(client, b));
        Assert.Empty(await StudiesOfAsync(client, a));
        var patient = await client.GetOkAsync("/api/v1/patient/get/" + Query(("Project", "proj"), ("Archive", "arch"), ("PatientID", b)));
        Assert.Equal(b, patient.GetProperty("PatientID").GetString());
        var underB = new[] { ("Project", "proj"), ("Archive", "arch"), ("PatientID", b), ("StudyInstanceUID", fromA.Study) };
        Assert.Equal(fromA.Study, (await client.GetOkAsync("/api/v1/study/get/" + Query(underB))).GetProperty("StudyInstanceUID").GetString());
        Assert.Equal(fromA.Series, (await client.GetOkAsync("/api/v1/series/get/" + Query([.. underB, ("SeriesInstanceUID", fromA.Series)])))
            .GetProperty("SeriesInstanceUID").GetString());
        var underA = new[] { ("Project", "proj"), ("Archive", "arch"), ("PatientID", a), ("StudyInstanceUID", fromA.Study) };
        await AssertErrorAsync(await client.GetAsync("/api/v1/study/get/" + Query(underA)), 404, "object_not_found", "study_not_found");

        // Moved on to a third patient: it follows; the delete finds it under its patient now, not the old one.
        await OkAsync(client, "studies/move", $$"""{"studyInstanceUid":"{{fromA.Study}}","targetPatientID":"{{c}}","patientName":"GAMMA^GUS","userName":"john"}""");
        Assert.Equal([fromA.Study], await StudiesOfAsync(client, c));
        Assert.Equal([fromB.Study], await StudiesOfAsync(client, b));
        await AssertErrorAsync(await client.GetAsync("/api/v1/study/delete/" + Query([.. underA.Take(2), ("PatientID", b), ("StudyInstanceUID", fromA.Study)])),
            404, "object_not_found", "study_not_found");
        await ArchiveDeleteTests.DeleteOkAsync(client, "patient", ("Project", "proj"), ("Archive", "arch"), ("PatientID", c));
        Assert.Empty(await StudiesOfAsync(client, c));
        Assert.Equal([fromB.Study], await StudiesOfAsync(client, b));
    }
}
