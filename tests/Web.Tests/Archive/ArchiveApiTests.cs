using System.Net;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Tests.Ingestion;
using EventSourced.Web.Tests.Support;
using Npgsql;
using static EventSourced.Web.Tests.Archive.ArchiveSupport;

namespace EventSourced.Web.Tests.Archive;

/// <summary>Document d (archive API v1): every call's success and each documented error, in the document's shape.</summary>
public sealed class ArchiveApiTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "archive-tests";

    private Task<HttpClient> Client(params string[] scopes) => fixture.App.ClientForTenantAsync(Tenant, scopes);

    private static readonly (string, DicomVR, string?)[] Attributes =
    [
        ("PatientName", DicomVR.PN, "Anonymous"),
        ("PatientBirthDate", DicomVR.DA, "19000101"),
        ("PatientSex", DicomVR.CS, "M"),
        ("StudyDate", DicomVR.DA, "20240315"),
        ("StudyTime", DicomVR.TM, "143025.5"),
        ("StudyDescription", DicomVR.LO, "Chest screening"),
        ("ReferringPhysicianName", DicomVR.PN, "Doe^Jane"),
        ("InstitutionName", DicomVR.LO, "Clinic One"),
        ("AccessionNumber", DicomVR.SH, "ACC-1"),
        ("SeriesDate", DicomVR.DA, "20240316"),
        ("SeriesTime", DicomVR.TM, "0915"),
        ("SeriesDescription", DicomVR.LO, "PA view"),
        ("Manufacturer", DicomVR.LO, "Acme"),
        ("ManufacturerModelName", DicomVR.LO, "X-1000"),
    ];

    [Fact]
    public async Task An_uploaded_instance_is_found_as_patient_study_and_series_with_the_documents_fields()
    {
        var client = await Client();
        var patient = "P-" + Guid.NewGuid().ToString("N")[..8];
        var instance = Create(patient, attributes: Attributes);

        var uploaded = await client.UploadOkAsync(instance.Bytes, "proj", "arch");
        Assert.Equal(
            $$"""{"PatientID":"{{patient}}","StudyInstanceUID":"{{instance.Study}}","SeriesInstanceUID":"{{instance.Series}}","SOPInstanceUID":"{{instance.Sop}}"}""",
            uploaded.GetRawText());

        var p = new[] { ("Project", "proj"), ("Archive", "arch"), ("PatientID", patient) };
        var s = p.Append(("StudyInstanceUID", instance.Study)).ToArray();
        var r = s.Append(("SeriesInstanceUID", instance.Series)).ToArray();

        Assert.Equal(
            $$"""{"PatientBirthDate":"1900-01-01","PatientID":"{{patient}}","PatientName":"Anonymous","PatientSex":"M"}""",
            (await client.GetOkAsync("/api/v1/patient/get/" + Query(p))).GetRawText());

        var study = $$"""{"StudyInstanceUID":"{{instance.Study}}","StudyDate":"2024-03-15","StudyTime":"14:30:25.500000","StudyDescription":"Chest screening","ReferringPhysicianName":"Doe^Jane","InstitutionName":"Clinic One","AccessionNumber":"ACC-1"}""";
        Assert.Equal(study, (await client.GetOkAsync("/api/v1/study/get/" + Query(s))).GetRawText());
        Assert.Equal($"[{study}]", (await client.GetOkAsync("/api/v1/patient/studies/list/" + Query(p))).GetRawText());

        var series = $$"""{"SeriesInstanceUID":"{{instance.Series}}","SOPClassUID":"1.2.840.10008.5.1.4.1.1.2","SeriesDate":"2024-03-16","SeriesTime":"09:15:00","SeriesDescription":"PA view","Manufacturer":"Acme","ManufacturerModelName":"X-1000","status":"stored","status_message":"1 instance stored."}""";
        Assert.Equal(series, (await client.GetOkAsync("/api/v1/series/get/" + Query(r))).GetRawText());
        Assert.Equal($"[{series}]", (await client.GetOkAsync("/api/v1/patient/study/series/list/" + Query(s))).GetRawText());

        // The same paths without the trailing slash.
        Assert.Equal(patient, (await client.GetOkAsync("/api/v1/patient/get" + Query(p))).GetProperty("PatientID").GetString());
        Assert.Equal(series, (await client.GetOkAsync("/api/v1/series/get" + Query(r))).GetRawText());

        // Stored through the one ingestion path: DICOMweb of the same tenant serves it byte for byte.
        var wado = await client.GetAsync($"/dicomweb/studies/{instance.Study}/series/{instance.Series}/instances/{instance.Sop}");
        Assert.Equal(instance.Bytes, Assert.Single(await CorpusRoundTripTests.PartsAsync(wado)));
    }

    [Fact]
    public async Task Upload_without_the_trailing_slash_and_absent_attributes_are_null()
    {
        var client = await Client();
        var patient = "P-" + Guid.NewGuid().ToString("N")[..8];
        var instance = Create(patient, attributes: [("PatientBirthDate", DicomVR.DA, null), ("PatientSex", DicomVR.CS, null), ("StudyDate", DicomVR.DA, null)]);
        var response = await client.PostAsync("/api/v1/instance/upload", Form(instance.Bytes, "proj", "arch"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var got = await client.GetOkAsync("/api/v1/patient/get/" + Query(("Project", "proj"), ("Archive", "arch"), ("PatientID", patient)));
        Assert.Equal(JsonValueKind.Null, got.GetProperty("PatientBirthDate").ValueKind);
        Assert.Equal(JsonValueKind.Null, got.GetProperty("PatientSex").ValueKind);
        var study = await client.GetOkAsync("/api/v1/study/get/" + Query(("Project", "proj"), ("Archive", "arch"), ("PatientID", patient), ("StudyInstanceUID", instance.Study)));
        Assert.Equal(JsonValueKind.Null, study.GetProperty("StudyDate").ValueKind);
    }

    [Fact]
    public async Task Upload_errors_are_invalid_post_value_and_store_nothing()
    {
        var client = await Client();
        var instance = Create("P-ERR");
        const string url = "/api/v1/instance/upload/";

        await AssertErrorAsync(await client.PostAsync(url, Form(null, "proj", "arch")), 400, "invalid_post_value", "no_data_submitted");
        await AssertErrorAsync(await client.PostAsync(url, new ByteArrayContent(instance.Bytes)), 400, "invalid_post_value", "no_data_submitted");
        await AssertErrorAsync(await client.PostAsync(url, Form("%PDF-1.7 not DICOM"u8.ToArray(), "proj", "arch")), 400, "invalid_post_value", null);
        await AssertErrorAsync(await client.PostAsync(url, Form(instance.Bytes, null, "arch")), 400, "invalid_post_value", null);
        await AssertErrorAsync(await client.PostAsync(url, Form(instance.Bytes, "proj", " ")), 400, "invalid_post_value", null);
        await AssertErrorAsync(await client.PostAsync(url, Form(instance.Bytes, new string('p', 129), "arch")), 400, "invalid_post_value", null);

        // No PatientID: the archive files by patient, so it is refused, and not stored either.
        var anonymous = Create("");
        await AssertErrorAsync(await client.PostAsync(url, Form(anonymous.Bytes, "proj", "arch")), 400, "invalid_post_value", null);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/dicomweb/studies/{anonymous.Study}/metadata")).StatusCode);

        // None of the refused uploads above reached the store.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/dicomweb/studies/{instance.Study}/metadata")).StatusCode);
    }

    [Fact]
    public async Task A_study_is_filed_under_one_patient_per_archive()
    {
        var client = await Client();
        var first = Create("P-ONE");
        await client.UploadOkAsync(first.Bytes, "proj", "arch-mismatch");
        var other = Create("P-TWO", study: first.Study, series: first.Series);

        await AssertErrorAsync(await client.PostAsync("/api/v1/instance/upload/", Form(other.Bytes, "proj", "arch-mismatch")), 400, "invalid_post_value", null);
        Assert.Equal(HttpStatusCode.NotFound,
            (await client.GetAsync($"/dicomweb/studies/{first.Study}/series/{first.Series}/instances/{other.Sop}/metadata")).StatusCode);
    }

    [Fact]
    public async Task Unknown_objects_are_object_not_found_with_the_documented_suberror()
    {
        var client = await Client();
        var instance = Create("P-NF");
        await client.UploadOkAsync(instance.Bytes, "proj", "arch");
        (string, string)[] p = [("Project", "proj"), ("Archive", "arch"), ("PatientID", "P-NF")];
        (string, string)[] unknownPatient = [("Project", "proj"), ("Archive", "arch"), ("PatientID", "nobody")];
        var s = p.Append(("StudyInstanceUID", instance.Study)).ToArray();
        var unknownStudy = p.Append(("StudyInstanceUID", "1.2.3.999")).ToArray();
        var unknownSeries = s.Append(("SeriesInstanceUID", "1.2.3.999")).ToArray();

        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/get/" + Query(unknownPatient)), 404, "object_not_found", "patient_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/studies/list/" + Query(unknownPatient)), 404, "object_not_found", "patient_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/study/get/" + Query(unknownStudy)), 404, "object_not_found", "study_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/study/series/list/" + Query(unknownStudy)), 404, "object_not_found", "study_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/series/get/" + Query(unknownSeries)), 404, "object_not_found", "series_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/dicom/get/" + Query(unknownSeries)), 404, "object_not_found", "series_not_found");

        // The study exists, but not for this patient.
        var wrongPatient = new[] { ("Project", "proj"), ("Archive", "arch"), ("PatientID", "nobody"), ("StudyInstanceUID", instance.Study) };
        await AssertErrorAsync(await client.GetAsync("/api/v1/study/get/" + Query(wrongPatient)), 404, "object_not_found", "study_not_found");

        // A missing parameter: the document has no type for it; ours is missing_parameter (400).
        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/get/" + Query(("Project", "proj"), ("Archive", "arch"))), 400, "missing_parameter", null);
        await AssertErrorAsync(await client.GetAsync("/api/v1/dicom/get/" + Query(s)), 400, "missing_parameter", null);
    }

    [Fact]
    public async Task A_wrong_method_on_any_documented_path_is_405_method_not_allowed()
    {
        var client = await Client();
        string[] gets = ["patient/get", "patient/studies/list", "study/get", "patient/study/series/list", "series/get", "dicom/get"];
        foreach (var path in gets)
        {
            await AssertErrorAsync(await client.PostAsync($"/api/v1/{path}/", new StringContent("")), 405, "method_not_allowed", null);
            await AssertErrorAsync(await client.DeleteAsync($"/api/v1/{path}"), 405, "method_not_allowed", null);
        }

        var wrong = await client.GetAsync("/api/v1/instance/upload/");
        await AssertErrorAsync(wrong, 405, "method_not_allowed", null);
        Assert.Equal("POST", string.Join(",", wrong.Content.Headers.Allow));
        await AssertErrorAsync(await client.PutAsync("/api/v1/instance/upload", new StringContent("")), 405, "method_not_allowed", null);
    }

    [Fact]
    public async Task An_unknown_call_under_api_v1_is_404_in_the_documents_shape()
    {
        var client = await Client();
        await AssertErrorAsync(await client.GetAsync("/api/v1/no/such/call/"), 404, "object_not_found", "api_call_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/remove/?Project=p&Archive=a&PatientID=x"), 404, "object_not_found", "api_call_not_found");
    }

    [Fact]
    public async Task Each_call_needs_its_permission_and_upload_needs_both()
    {
        var instance = Create("P-PERM");
        var onlyInstanceUpload = await Client(Scopes.Archive.InstanceUpload);
        Assert.Equal(HttpStatusCode.Forbidden, (await onlyInstanceUpload.PostAsync("/api/v1/instance/upload/", Form(instance.Bytes, "proj", "arch"))).StatusCode);
        var onlyUploadProject = await Client(Scopes.Archive.UploadProject);
        Assert.Equal(HttpStatusCode.Forbidden, (await onlyUploadProject.PostAsync("/api/v1/instance/upload/", Form(instance.Bytes, "proj", "arch"))).StatusCode);
        var uploader = await Client(Scopes.Archive.UploadProject, Scopes.Archive.InstanceUpload);
        await uploader.UploadOkAsync(instance.Bytes, "proj", "arch");

        var p = Query(("Project", "proj"), ("Archive", "arch"), ("PatientID", "P-PERM"), ("StudyInstanceUID", instance.Study), ("SeriesInstanceUID", instance.Series));
        (string Path, string Scope)[] calls =
        [
            ("patient/get", Scopes.Archive.GetPatient), ("patient/studies/list", Scopes.Archive.ListStudies), ("study/get", Scopes.Archive.GetStudy),
            ("patient/study/series/list", Scopes.Archive.ListSeries), ("series/get", Scopes.Archive.GetSeries), ("dicom/get", Scopes.Archive.DicomGet),
        ];
        foreach (var (path, scope) in calls)
        {
            var others = await Client([.. Scopes.Archive.All.Where(s => s != scope)]);
            Assert.Equal(HttpStatusCode.Forbidden, (await others.GetAsync($"/api/v1/{path}/{p}")).StatusCode);
            var holder = await Client(scope);
            Assert.Equal(HttpStatusCode.OK, (await holder.GetAsync($"/api/v1/{path}/{p}")).StatusCode);
        }
    }

    [Fact]
    public async Task A_document_d_user_signs_in_with_X_USERNAME_and_X_PASSWORD_and_gets_what_its_permissions_allow()
    {
        var name = $"archive-user-{Guid.NewGuid():N}";
        var user = await fixture.App.RegisterUserAsync(Tenant, name, Scopes.Archive.UploadProject, Scopes.Archive.InstanceUpload, Scopes.Archive.GetPatient);
        var client = fixture.App.CreateClient();
        client.DefaultRequestHeaders.Add("X-USERNAME", user.Username);
        client.DefaultRequestHeaders.Add("X-PASSWORD", user.Password);

        var instance = Create("P-USER", attributes: [("PatientName", DicomVR.PN, "Anonymous")]);
        await client.UploadOkAsync(instance.Bytes, "proj", "arch-user");
        var patient = await client.GetOkAsync("/api/v1/patient/get/" + Query(("Project", "proj"), ("Archive", "arch-user"), ("PatientID", "P-USER")));
        Assert.Equal("Anonymous", patient.GetProperty("PatientName").GetString());

        // Not its permission: the document's api_call_not_allowed.
        var studies = await client.GetAsync("/api/v1/patient/studies/list/" + Query(("Project", "proj"), ("Archive", "arch-user"), ("PatientID", "P-USER")));
        await AssertErrorAsync(studies, 403, "api_call_not_allowed", null);
    }

    [Fact]
    public async Task Re_uploading_is_idempotent_and_filing_into_a_second_archive_stores_no_second_copy()
    {
        var client = await Client();
        var instance = Create("P-IDEM");
        var first = await client.UploadOkAsync(instance.Bytes, "proj", "arch-idem");
        var again = await client.UploadOkAsync(instance.Bytes, "proj", "arch-idem");
        Assert.Equal(first.GetRawText(), again.GetRawText());
        await client.UploadOkAsync(instance.Bytes, "proj", "arch-idem-2");

        // The first filing travels in the InstanceStored (FiledIn); the second archive's is an event of its own.
        Assert.Equal(1, await CountEventsAsync("instance_stored", instance.Sop));
        Assert.Equal(1, await CountEventsAsync("instance_filed_in_archive", instance.Sop));
        var series = await client.GetOkAsync("/api/v1/series/get/" + Query(("Project", "proj"), ("Archive", "arch-idem"), ("PatientID", "P-IDEM"),
            ("StudyInstanceUID", instance.Study), ("SeriesInstanceUID", instance.Series)));
        Assert.Equal("1 instance stored.", series.GetProperty("status_message").GetString());
    }

    private async Task<long> CountEventsAsync(string type, string sop)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select count(*) from eventsourced.mt_events where type = @type and tenant_id = @tenant and data::text like @sop", connection);
        command.Parameters.AddWithValue("type", type);
        command.Parameters.AddWithValue("tenant", Tenant);
        command.Parameters.AddWithValue("sop", $"%\"{sop}\"%");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Retina_instances_are_series_of_their_own_keyed_by_their_SOPInstanceUID()
    {
        var client = await Client();
        var patient = "P-RET-" + Guid.NewGuid().ToString("N")[..6];
        var left = Create(patient, template: "SC_rgb_small_odd.dcm", sopClass: OphthalmicPhotography8Bit,
            attributes: [("Modality", DicomVR.CS, "OP"), ("SeriesDescription", DicomVR.LO, "Fundus left"), ("Manufacturer", DicomVR.LO, "EyeCam")]);
        var right = Create(patient, study: left.Study, series: left.Series, template: "SC_rgb_small_odd.dcm", sopClass: OphthalmicPhotography8Bit,
            attributes: [("Modality", DicomVR.CS, "OP"), ("SeriesDescription", DicomVR.LO, "Fundus right")]);

        var uploaded = await client.UploadOkAsync(left.Bytes, "eyes", "screening");
        Assert.Equal(left.Sop, uploaded.GetProperty("SeriesInstanceUID").GetString());
        Assert.Equal(right.Sop, (await client.UploadOkAsync(right.Bytes, "eyes", "screening")).GetProperty("SeriesInstanceUID").GetString());

        var s = new[] { ("Project", "eyes"), ("Archive", "screening"), ("PatientID", patient), ("StudyInstanceUID", left.Study) };
        var list = await client.GetOkAsync("/api/v1/patient/study/series/list/" + Query(s));
        Assert.Equal(new[] { left.Sop, right.Sop }.Order(StringComparer.Ordinal), list.EnumerateArray().Select(x => x.GetProperty("SeriesInstanceUID").GetString()));

        var series = await client.GetOkAsync("/api/v1/series/get/" + Query([.. s, ("SeriesInstanceUID", left.Sop)]));
        Assert.Equal(OphthalmicPhotography8Bit, series.GetProperty("SOPClassUID").GetString());
        Assert.Equal("Fundus left", series.GetProperty("SeriesDescription").GetString());
        Assert.Equal("EyeCam", series.GetProperty("Manufacturer").GetString());
        await AssertErrorAsync(await client.GetAsync("/api/v1/series/get/" + Query([.. s, ("SeriesInstanceUID", left.Series)])), 404, "object_not_found", "series_not_found");

        var zip = await client.GetAsync("/api/v1/dicom/get/" + Query([.. s, ("SeriesInstanceUID", right.Sop)]));
        Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
        var entry = Assert.Single(Entries(await zip.Content.ReadAsByteArrayAsync()));
        Assert.Equal($"{right.Sop}.dcm", entry.Key);
        Assert.Equal(right.Bytes, entry.Value);
    }

    [Fact]
    public async Task The_series_zip_holds_each_uploaded_file_byte_for_byte_stored_and_outside_tools_agree()
    {
        var client = await Client();
        var patient = "P-ZIP";
        var first = Create(patient, attributes: [("InstanceNumber", DicomVR.IS, "1")]);
        var files = new List<Instance> { first };
        files.Add(Create(patient, first.Study, first.Series, attributes: [("InstanceNumber", DicomVR.IS, "2")]));
        files.Add(Create(patient, first.Study, first.Series, template: "MR_small.dcm", attributes: [("InstanceNumber", DicomVR.IS, "3")]));
        files.Add(Create(patient, first.Study, first.Series, template: "JPEG2000.dcm", attributes: [("InstanceNumber", DicomVR.IS, "4")]));
        foreach (var file in files)
        {
            await client.UploadOkAsync(file.Bytes, "proj", "arch-zip");
        }

        var s = new[] { ("Project", "proj"), ("Archive", "arch-zip"), ("PatientID", patient), ("StudyInstanceUID", first.Study), ("SeriesInstanceUID", first.Series) };
        var response = await client.GetAsync("/api/v1/dicom/get/" + Query(s));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        var zip = await response.Content.ReadAsByteArrayAsync();

        var entries = Entries(zip);
        Assert.Equal(files.Select(f => $"{f.Sop}.dcm"), entries.Keys);
        foreach (var file in files)
        {
            Assert.Equal(file.Bytes, entries[$"{file.Sop}.dcm"]);
        }

        var (unzip, methods) = OutsideTools(zip);
        Assert.Contains("No errors detected", unzip);
        Assert.Equal("0,0,0,0", methods);

        var series = await client.GetOkAsync("/api/v1/series/get/" + Query(s));
        Assert.Equal("4 instances stored.", series.GetProperty("status_message").GetString());
    }

    [Fact]
    public async Task A_series_whose_files_are_gone_is_no_dicom_available()
    {
        var client = await Client();
        var instance = Create("P-GONE", pixelBytes: 2048);
        await client.UploadOkAsync(instance.Bytes, "proj", "arch-gone");
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(instance.Bytes));
        File.Delete(Path.Combine(fixture.App.BlobRoot, "objects", sha[..2], sha[2..4], sha));

        var s = Query(("Project", "proj"), ("Archive", "arch-gone"), ("PatientID", "P-GONE"), ("StudyInstanceUID", instance.Study), ("SeriesInstanceUID", instance.Series));
        await AssertErrorAsync(await client.GetAsync("/api/v1/dicom/get/" + s), 404, "object_not_found", "no_dicom_available");
    }
}
