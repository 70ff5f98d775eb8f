using System.Net;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Support;
using static EventSourced.Web.Tests.Archive.ArchiveSupport;

namespace EventSourced.Web.Tests.Archive;

/// <summary>Project and Archive scope document d's data; tenants never see each other's.</summary>
public sealed class ArchiveIsolationTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private static string Q(string project, string archive, string patient, string? study = null, string? series = null)
    {
        var p = new List<(string, string)> { ("Project", project), ("Archive", archive), ("PatientID", patient) };
        if (study is not null) p.Add(("StudyInstanceUID", study));
        if (series is not null) p.Add(("SeriesInstanceUID", series));
        return Query([.. p]);
    }

    [Fact]
    public async Task The_same_patient_in_two_archives_shows_only_what_was_uploaded_to_each()
    {
        var client = await fixture.App.ClientForTenantAsync("isolation-archives");
        var inOne = Create("P-SHARED", attributes: [("StudyDescription", DicomVR.LO, "first")]);
        var inTwo = Create("P-SHARED", attributes: [("StudyDescription", DicomVR.LO, "second")]);
        await client.UploadOkAsync(inOne.Bytes, "proj", "one");
        await client.UploadOkAsync(inTwo.Bytes, "proj", "two");

        Assert.Equal([inOne.Study], (await client.GetOkAsync("/api/v1/patient/studies/list/" + Q("proj", "one", "P-SHARED"))).EnumerateArray().Select(s => s.GetProperty("StudyInstanceUID").GetString()));
        Assert.Equal([inTwo.Study], (await client.GetOkAsync("/api/v1/patient/studies/list/" + Q("proj", "two", "P-SHARED"))).EnumerateArray().Select(s => s.GetProperty("StudyInstanceUID").GetString()));

        await AssertErrorAsync(await client.GetAsync("/api/v1/study/get/" + Q("proj", "one", "P-SHARED", inTwo.Study)), 404, "object_not_found", "study_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/study/series/list/" + Q("proj", "two", "P-SHARED", inOne.Study)), 404, "object_not_found", "study_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/series/get/" + Q("proj", "one", "P-SHARED", inTwo.Study, inTwo.Series)), 404, "object_not_found", "series_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/dicom/get/" + Q("proj", "two", "P-SHARED", inOne.Study, inOne.Series)), 404, "object_not_found", "series_not_found");

        // Another project with an archive of the same name sees nothing; names are matched exactly.
        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/get/" + Q("other", "one", "P-SHARED")), 404, "object_not_found", "patient_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/get/" + Q("PROJ", "one", "P-SHARED")), 404, "object_not_found", "patient_not_found");

        // DICOMweb of the same tenant sees both, whatever archive they were uploaded to.
        foreach (var study in new[] { inOne.Study, inTwo.Study })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/dicomweb/studies/{study}/metadata")).StatusCode);
        }
    }

    [Fact]
    public async Task A_second_tenant_sees_nothing_of_the_first_even_with_the_same_names_and_UIDs()
    {
        var a = await fixture.App.ClientForTenantAsync("isolation-tenant-a");
        var b = await fixture.App.ClientForTenantAsync("isolation-tenant-b");
        var instance = Create("P-TENANT", attributes: [("PatientName", DicomVR.PN, "Alpha^Ann")]);
        await a.UploadOkAsync(instance.Bytes, "proj", "arch");

        var q = Q("proj", "arch", "P-TENANT", instance.Study, instance.Series);
        await AssertErrorAsync(await b.GetAsync("/api/v1/patient/get/" + Q("proj", "arch", "P-TENANT")), 404, "object_not_found", "patient_not_found");
        await AssertErrorAsync(await b.GetAsync("/api/v1/patient/studies/list/" + Q("proj", "arch", "P-TENANT")), 404, "object_not_found", "patient_not_found");
        await AssertErrorAsync(await b.GetAsync("/api/v1/study/get/" + Q("proj", "arch", "P-TENANT", instance.Study)), 404, "object_not_found", "study_not_found");
        await AssertErrorAsync(await b.GetAsync("/api/v1/series/get/" + q), 404, "object_not_found", "series_not_found");
        await AssertErrorAsync(await b.GetAsync("/api/v1/dicom/get/" + q), 404, "object_not_found", "series_not_found");
        Assert.Equal(HttpStatusCode.NotFound, (await b.GetAsync($"/dicomweb/studies/{instance.Study}/metadata")).StatusCode);

        // Tenant b uploads the same UIDs with another name under the same project and archive: each sees its own.
        var twin = Create("P-TENANT", instance.Study, instance.Series, attributes: [("PatientName", DicomVR.PN, "Beta^Bob")]);
        await b.UploadOkAsync(twin.Bytes, "proj", "arch");
        Assert.Equal("Alpha^Ann", (await a.GetOkAsync("/api/v1/patient/get/" + Q("proj", "arch", "P-TENANT"))).GetProperty("PatientName").GetString());
        Assert.Equal("Beta^Bob", (await b.GetOkAsync("/api/v1/patient/get/" + Q("proj", "arch", "P-TENANT"))).GetProperty("PatientName").GetString());
        var seriesA = await a.GetOkAsync("/api/v1/series/get/" + q);
        Assert.Equal("1 instance stored.", seriesA.GetProperty("status_message").GetString());

        var zipA = Entries(await (await a.GetAsync("/api/v1/dicom/get/" + q)).Content.ReadAsByteArrayAsync());
        var zipB = Entries(await (await b.GetAsync("/api/v1/dicom/get/" + q)).Content.ReadAsByteArrayAsync());
        Assert.Equal(instance.Bytes, Assert.Single(zipA).Value);
        Assert.Equal(twin.Bytes, Assert.Single(zipB).Value);
    }
}
