using System.Net;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Support;
using static EventSourced.Web.Tests.Patients.PatientSupport;

namespace EventSourced.Web.Tests.Patients;

/// <summary>Document e's patient calls over HTTP on a real PostgreSQL: every documented status code, bad input, races.</summary>
public sealed class PatientApiTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task Create_registers_a_PatientID_once_per_issuer_and_a_PatientID_under_two_issuers_is_ambiguous_later()
    {
        var client = await fixture.App.ClientForTenantAsync("patients-create");
        const string body = """{"patientID":"PID-1","patientName":"DOE^JOHN","patientBirthDate":"20211224","patientSex":"M","userName":"user543"}""";
        var created = await OkJsonAsync(await PostAsync(client, "patients/create", body));
        Assert.Equal("PID-1", created.GetProperty("patientID").GetString());

        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(client, "patients/create", body)).StatusCode);
        await OkJsonAsync(await PostAsync(client, "patients/create", """{"patientID":"PID-1","patientName":"DOE^JOHN","idIssuer":"HOSP-A","userName":"u"}"""));
        Assert.Equal(HttpStatusCode.Conflict,
            (await PostAsync(client, "patients/create", """{"patientID":"PID-1","patientName":"X^Y","idIssuer":"HOSP-A","userName":"u"}""")).StatusCode);

        // Calls that name no issuer: PID-1 now identifies two patients.
        var update = await PostAsync(client, "patients/update", """{"patientID":"PID-1","patientName":"DOE^JANE","userName":"u"}""");
        Assert.Equal(HttpStatusCode.Conflict, update.StatusCode);
        Assert.Contains("more than one patient", await update.Content.ReadAsStringAsync());

        // The same PatientID in another tenant is another patient.
        var other = await fixture.App.ClientForTenantAsync("patients-create-other");
        await OkJsonAsync(await PostAsync(other, "patients/create", body));
    }

    [Fact]
    public async Task Twenty_concurrent_creates_of_one_patient_give_exactly_one_200_and_nineteen_409s()
    {
        var client = await fixture.App.ClientForTenantAsync("patients-race");
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            PostAsync(client, "patients/create", $$"""{"patientID":"RACE-1","patientName":"RACER^NUMBER{{i}}","userName":"u{{i}}"}""")));
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
    }

    [Fact]
    public async Task Update_shows_the_new_demographics_on_every_read_path_of_the_patients_studies()
    {
        var client = await fixture.App.ClientForTenantAsync("patients-update");
        var (study, _, _) = await StowStudyAsync(client, "UPD-1", "OLD^NAME");
        var order = Support.Orders.MandatoryOnly(Support.Orders.NewStudyUid());
        order["PatientID"] = "UPD-1";
        order["PatientName"] = "OLD^NAME";
        await Support.Orders.CreateOkAsync(client, order);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(client, "patients/update", """{"patientID":"UNKNOWN","patientName":"A^B","userName":"u"}""")).StatusCode);

        await OkJsonAsync(await PostAsync(client, "patients/update",
            """{"patientID":"UPD-1","patientName":"NEW^NAME","patientBirthDate":"19991231","patientSex":"O","operatorName":"op","userName":"u"}"""));

        var qido = JsonDocument.Parse(await client.GetStringAsync($"/dicomweb/studies?StudyInstanceUID={study}")).RootElement[0];
        Assert.Equal("NEW^NAME", Qido.QidoSupport.Value(qido, "00100010"));
        Assert.Equal("19991231", Qido.QidoSupport.Value(qido, "00100030"));
        Assert.Equal(new[] { study }, await QidoStudiesOfAsync(client, "UPD-1"));
        var metadata = JsonDocument.Parse(await client.GetStringAsync($"/dicomweb/studies/{study}/metadata")).RootElement[0];
        Assert.Equal("NEW^NAME", Qido.QidoSupport.Value(metadata, "00100010"));
        Assert.Equal("O", Qido.QidoSupport.Value(metadata, "00100040"));
        Assert.All(await WadoPatientsByDcmdumpAsync(client, study), p => Assert.Equal(("UPD-1", "NEW^NAME", null), p));

        // The patient's order shows the new demographics in the worklist (UPS-RS search reads the order's details).
        var workitems = JsonDocument.Parse(await client.GetStringAsync("/dicomweb/workitems?PatientID=UPD-1")).RootElement;
        Assert.Equal("NEW^NAME", Qido.QidoSupport.Value(Assert.Single(workitems.EnumerateArray()), "00100010"));
    }

    [Fact]
    public async Task Merge_and_move_answer_the_documented_409s()
    {
        var client = await fixture.App.ClientForTenantAsync("patients-merge-409");
        var (study, _, _) = await StowStudyAsync(client, "M409-A", "A^A");
        await OkJsonAsync(await PostAsync(client, "patients/create", """{"patientID":"M409-EMPTY","patientName":"E^E","userName":"u"}"""));
        await OkJsonAsync(await PostAsync(client, "patients/create", """{"patientID":"M409-TWO","patientName":"T^T","userName":"u"}"""));
        await OkJsonAsync(await PostAsync(client, "patients/create", """{"patientID":"M409-TWO","patientName":"T^T","idIssuer":"I2","userName":"u"}"""));

        async Task Conflict(string route, string json, string words)
        {
            var response = await PostAsync(client, route, json);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Conflict, $"{route} {json}: {(int)response.StatusCode} {text}");
            Assert.Contains(words, text);
        }

        await Conflict("patients/merge", """{"sourcePatientID":"NOBODY","targetPatientID":"M409-A","userName":"u"}""", "No source patient");
        await Conflict("patients/merge", """{"sourcePatientID":"M409-EMPTY","targetPatientID":"M409-A","userName":"u"}""", "No study found");
        await Conflict("patients/merge", """{"sourcePatientID":"M409-TWO","targetPatientID":"M409-A","userName":"u"}""", "more than one patient");
        await Conflict("patients/merge", """{"sourcePatientID":"M409-A","targetPatientID":"M409-TWO","userName":"u"}""", "more than one patient");
        await Conflict("patients/merge", """{"sourcePatientID":"M409-A","targetPatientID":"M409-A","userName":"u"}""", "same patient");
        await Conflict("studies/move", """{"studyInstanceUid":"1.2.3.999","targetPatientID":"M409-A","patientName":"A^A","userName":"u"}""", "not found");
        await Conflict("studies/move", $$"""{"studyInstanceUid":"{{study}}","targetPatientID":"M409-TWO","patientName":"A^A","userName":"u"}""", "more than one patient");
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(client, $"corrections/{Guid.NewGuid()}/undo", "{}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(client, "corrections/not-a-guid/undo", "{}")).StatusCode);
    }

    public static TheoryData<string, string> BadBodies() => new()
    {
        { "patients/create", "" },
        { "patients/create", "not json" },
        { "patients/create", "[]" },
        { "patients/create", """{"patientName":"A^B","userName":"u"}""" },
        { "patients/create", """{"patientID":"P","patientName":"A^B"}""" },
        { "patients/create", """{"patientID":"P","patientName":"A^B","userName":"u","favouriteColour":"blue"}""" },
        { "patients/create", """{"patientID":12,"patientName":"A^B","userName":"u"}""" },
        { "patients/create", """{"patientID":"P","patientName":"A^B","userName":"u","patientBirthDate":"2021-12-24"}""" },
        { "patients/create", """{"patientID":"P","patientName":"A^B","userName":"u","patientSex":"X"}""" },
        { "patients/create", """{"patientID":"P\\Q","patientName":"A^B","userName":"u"}""" },
        { "patients/update", "{}" },
        { "patients/update", """{"patientID":"P","userName":"u"}""" },
        { "patients/update", """{"patientID":"P","patientName":["A^B"],"userName":"u"}""" },
        { "patients/merge", """{"sourcePatientID":"P","userName":"u"}""" },
        { "patients/merge", """{"sourcePatientID":"P","targetPatientID":"Q"}""" },
        { "patients/merge", """{"sourcePatientID":"P","targetPatientID":"Q","userName":"u","extra":1}""" },
        { "studies/move", """{"studyInstanceUid":"1.2.3","targetPatientID":"P","userName":"u"}""" },
        { "studies/move", """{"studyInstanceUid":"not a uid","targetPatientID":"P","patientName":"A^B","userName":"u"}""" },
        { "studies/move", """{"studyInstanceUid":true,"targetPatientID":"P","patientName":"A^B","userName":"u"}""" },
        { "corrections/0190a6f0-1111-7222-8333-444455556666/undo", """{"userName":5}""" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_input_is_a_400_and_changes_nothing(string route, string body)
    {
        var client = await fixture.App.ClientForTenantAsync("patients-bad-input");
        var before = await EventCountAsync(fixture.ConnectionString);
        var response = await PostAsync(client, route, body);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(before, await EventCountAsync(fixture.ConnectionString));
    }

    [Fact]
    public async Task A_non_JSON_content_type_is_415()
    {
        var client = await fixture.App.ClientForTenantAsync("patients-bad-input");
        var response = await client.PostAsync("/o3-dpacs-wado/patients/create", new StringContent("patientID=P", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }
}
