using System.Net;
using System.Text;
using System.Text.Json;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Tests.Support;
using static EventSourced.Web.Tests.Archive.ArchiveSupport;

namespace EventSourced.Web.Tests.Archive;

public sealed class ArchiveFormsFixture : ServiceFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Archive:Forms:0"] = "Retina grading",
        ["Archive:Forms:1"] = "TB review",
        ["Archive:Forms:2"] = "tb review",
    };
}

/// <summary>Document d: algorithm results (recorded through our producer route) and reporting forms.</summary>
public sealed class ArchiveResultsAndFormsTests(ArchiveFormsFixture fixture) : IClassFixture<ArchiveFormsFixture>
{
    private const string Tenant = "archive-results";

    private static MultipartFormDataContent Result(Instance instance, string type, string name, string algorithm, string? value = null, byte[]? file = null, string project = "proj")
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(project), "Project" }, { new StringContent("arch"), "Archive" },
            { new StringContent(instance.Study), "StudyInstanceUID" }, { new StringContent(instance.Series), "SeriesInstanceUID" },
            { new StringContent(type), "Type" }, { new StringContent(name), "Name" }, { new StringContent(algorithm), "Algorithm" },
        };
        if (value is not null)
        {
            form.Add(new StringContent(value), "Value");
        }

        if (file is not null)
        {
            form.Add(new ByteArrayContent(file), "file", "heatmap.png");
        }

        return form;
    }

    private static string SeriesQuery(Instance instance, string patient) =>
        Query(("Project", "proj"), ("Archive", "arch"), ("PatientID", patient), ("StudyInstanceUID", instance.Study), ("SeriesInstanceUID", instance.Series));

    [Fact]
    public async Task Scalar_results_are_json_mixed_ones_a_zip_with_an_xml_file_and_unknown_ones_result_not_found()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var instance = Create("P-RES");
        await client.UploadOkAsync(instance.Bytes, "proj", "arch");
        const string producer = "/admin/archive/series/results";
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(producer, Result(instance, "cad4tb", "CAD4TB 5", "CAD4TB", "12.345"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(producer, Result(instance, "cad4tb", "Count", "CAD4TB", "3"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(producer, Result(instance, "cad4tb", "Label", "CAD4TB", "abnormal"))).StatusCode);
        var heatmap = Encoding.ASCII.GetBytes("\x89PNG not really, but bytes");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(producer, Result(instance, "cad4tb", "Heatmap", "CAD4TB", file: heatmap))).StatusCode);

        // Producers need reports.write; an unknown series is a 404 problem.
        var reader = await fixture.App.ClientForTenantAsync(Tenant, Scopes.Archive.SeriesResults);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync(producer, Result(instance, "cad4tb", "X", "CAD4TB", "1"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync(producer, Result(instance, "cad4tb", "X", "CAD4TB", "1", project: "elsewhere"))).StatusCode);

        var q = SeriesQuery(instance, "P-RES");
        Assert.Equal("""[{"name":"CAD4TB 5","algorithm":"CAD4TB","value":12.345}]""",
            (await reader.GetOkAsync($"/api/v1/series/results/{q}&Type=cad4tb&Results={Uri.EscapeDataString("CAD4TB 5")}")).GetRawText());
        Assert.Equal("""[{"name":"Count","algorithm":"CAD4TB","value":3},{"name":"Label","algorithm":"CAD4TB","value":"abnormal"}]""",
            (await reader.GetOkAsync($"/api/v1/series/results/{q}&Type=cad4tb&Results=Count,Label")).GetRawText());

        var zip = await reader.GetAsync($"/api/v1/series/results/{q}&Type=cad4tb&Results=Heatmap,{Uri.EscapeDataString("CAD4TB 5")}");
        Assert.Equal("application/zip", zip.Content.Headers.ContentType?.MediaType);
        var bytes = await zip.Content.ReadAsByteArrayAsync();
        var entries = Entries(bytes);
        Assert.Equal(["heatmap.png", "results.xml"], entries.Keys);
        Assert.Equal(heatmap, entries["heatmap.png"]);
        var xml = System.Xml.Linq.XDocument.Parse(Encoding.UTF8.GetString(entries["results.xml"]));
        var result = Assert.Single(xml.Root!.Elements("result"));
        Assert.Equal(("CAD4TB 5", "CAD4TB", "12.345"), ((string)result.Element("name")!, (string)result.Element("algorithm")!, (string)result.Element("value")!));
        Assert.Contains("No errors detected", OutsideTools(bytes).UnzipTest);

        await AssertErrorAsync(await reader.GetAsync($"/api/v1/series/results/{q}&Type=cad4tb&Results=Count,Nope"), 404, "object_not_found", "result_not_found");
        await AssertErrorAsync(await reader.GetAsync($"/api/v1/series/results/{q}&Type=retina&Results=Count"), 404, "object_not_found", "result_not_found");
        await AssertErrorAsync(await reader.GetAsync($"/api/v1/series/results/{q}&Type=cad4tb"), 400, "missing_parameter", null);
        await AssertErrorAsync(await reader.PostAsync($"/api/v1/series/results/{q}", new StringContent("")), 405, "method_not_allowed", null);

        var series = await client.GetOkAsync("/api/v1/series/get/" + q);
        Assert.Equal("processed", series.GetProperty("status").GetString());
        Assert.Equal("1 instance stored; 4 algorithm results available.", series.GetProperty("status_message").GetString());
    }

    private static FormUrlEncodedContent FormAdd(Instance instance, string patient, string formName, string submission) => new(new Dictionary<string, string>
    {
        ["Project"] = "proj", ["Archive"] = "arch", ["PatientID"] = patient, ["StudyInstanceUID"] = instance.Study,
        ["SeriesInstanceUID"] = instance.Series, ["FormName"] = formName, ["FormSubmission"] = submission,
    });

    [Fact]
    public async Task Form_submissions_are_added_and_listed_and_bad_ones_answer_the_documented_errors()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var instance = Create("P-FORM");
        await client.UploadOkAsync(instance.Bytes, "proj", "arch");
        const string add = "/api/v1/patient/study/series/forms/add/";

        var added = await client.PostAsync(add, FormAdd(instance, "P-FORM", "Retina grading", """{"grade":"R1","eyes":{"left":1}}"""));
        var addedBody = await added.Content.ReadAsStringAsync();
        Assert.True(added.StatusCode == HttpStatusCode.OK, addedBody);

        var list = await client.GetOkAsync("/api/v1/patient/study/series/forms/list/" + SeriesQuery(instance, "P-FORM"));
        var entry = Assert.Single(list.EnumerateArray());
        Assert.Equal(["id", "entry", "entry_formatted", "user", "series", "form"], entry.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonDocument.Parse(addedBody).RootElement.GetProperty("id").GetString(), entry.GetProperty("id").GetString());
        Assert.Equal("""{"grade":"R1","eyes":{"left":1}}""", entry.GetProperty("entry").GetRawText());
        Assert.Equal("grade: R1\neyes.left: 1", entry.GetProperty("entry_formatted").GetString());
        Assert.False(string.IsNullOrEmpty(entry.GetProperty("user").GetString()));
        Assert.Equal(instance.Series, entry.GetProperty("series").GetString());
        Assert.Equal("Retina grading", entry.GetProperty("form").GetString());

        // A form named without regard to case resolves when it is the only one; two candidates: multiple_objects_found.
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(add, FormAdd(instance, "P-FORM", "retina GRADING", "{}"))).StatusCode);
        await AssertErrorAsync(await client.PostAsync(add, FormAdd(instance, "P-FORM", "TB REVIEW", "{}")), 409, "multiple_objects_found", null);
        await AssertErrorAsync(await client.PostAsync(add, FormAdd(instance, "P-FORM", "Unknown form", "{}")), 404, "object_not_found", "form_not_found");
        await AssertErrorAsync(await client.PostAsync(add, FormAdd(instance, "P-FORM", "TB review", "{not json")), 400, "invalid_post_value", null);
        await AssertErrorAsync(await client.PostAsync(add, FormAdd(instance, "P-OTHER", "TB review", "{}")), 404, "object_not_found", "series_not_found");
        await AssertErrorAsync(await client.GetAsync(add), 405, "method_not_allowed", null);
        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/study/series/forms/list/" + SeriesQuery(instance, "P-OTHER")), 404, "object_not_found", "series_not_found");
        Assert.Equal(2, (await client.GetOkAsync("/api/v1/patient/study/series/forms/list/" + SeriesQuery(instance, "P-FORM"))).GetArrayLength());

        var noPermission = await fixture.App.ClientForTenantAsync(Tenant, Scopes.Archive.ListForms);
        Assert.Equal(HttpStatusCode.Forbidden, (await noPermission.PostAsync(add, FormAdd(instance, "P-FORM", "TB review", "{}"))).StatusCode);
    }
}
