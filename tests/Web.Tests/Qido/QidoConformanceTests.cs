using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EventSourced.Web.Tests.Support;
using static EventSourced.Web.Tests.Qido.QidoFixture;

namespace EventSourced.Web.Tests.Qido;

/// <summary>PS3.18 §10.6 at each of the six resources: status codes, media type, JSON shape, required attributes.</summary>
[Collection(QidoCollection.Name)]
public sealed class QidoConformanceTests(QidoFixture fixture)
{
    private HttpClient Client => fixture.Client;

    private async Task<JsonElement> OkAsync(string url)
    {
        var (response, body) = await Client.QidoAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/dicom+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(JsonValueKind.Array, body.ValueKind);
        foreach (var dataset in body.EnumerateArray())
        {
            foreach (var attribute in dataset.EnumerateObject())
            {
                Assert.Matches("^[0-9A-F]{8}$", attribute.Name);
                Assert.True(attribute.Value.TryGetProperty("vr", out _), $"{attribute.Name} has no vr");
            }
        }

        return body;
    }

    private static void HasAll(JsonElement dataset, params string[] tags)
    {
        foreach (var tag in tags)
        {
            Assert.True(dataset.TryGetProperty(tag, out _), $"required attribute {tag} missing from {dataset}");
        }
    }

    [Fact]
    public async Task Studies_returns_the_required_study_attributes_and_the_computed_ones()
    {
        var body = await OkAsync("/dicomweb/studies");
        Assert.Equal(4, body.GetArrayLength());
        var a = body.EnumerateArray().Single(s => s.Value("0020000D") == StudyA);
        HasAll(a, "00080020", "00080030", "00080050", "00080056", "00080061", "00080090", "00081190", "00100010", "00100020", "00100030",
            "00100040", "0020000D", "00200010", "00201206", "00201208");
        Assert.Equal(["CT", "MR"], a.GetProperty("00080061").GetProperty("Value").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("2", a.Value("00201206"));
        Assert.Equal("4", a.Value("00201208"));
        Assert.Equal("ONLINE", a.Value("00080056"));
        Assert.EndsWith($"/dicomweb/studies/{StudyA}", a.Value("00081190"));
        Assert.Equal("Müller^Jürgen", a.Value("00100010"));
        Assert.False(a.TryGetProperty("00080060", out _), "a series attribute in a study result");
    }

    [Fact]
    public async Task Series_of_a_study_are_in_series_number_order_with_their_counts()
    {
        var body = await OkAsync($"/dicomweb/studies/{StudyA}/series");
        Assert.Equal([SeriesA1, SeriesA2], body.Values("0020000E"));
        var first = body[0];
        HasAll(first, "00080060", "0008103E", "00081190", "0020000E", "00200011", "00201209", "00400244", "00400245");
        Assert.Equal("3", first.Value("00201209"));
        Assert.All(body.EnumerateArray(), s => Assert.Equal(StudyA, s.Value("0020000D")));
        Assert.EndsWith($"/studies/{StudyA}/series/{SeriesA1}", first.Value("00081190"));
        Assert.False(first.TryGetProperty("00100020", out _), "study attributes when the study is in the path");

        var included = await OkAsync($"/dicomweb/studies/{StudyA}/series?includefield=PatientID,PatientName");
        Assert.All(included.EnumerateArray(), s => Assert.Equal("P1", s.Value("00100020")));
        Assert.All(included.EnumerateArray(), s => Assert.False(s.TryGetProperty("00201208", out _)));
    }

    [Fact]
    public async Task Series_across_studies_carry_their_study_attributes()
    {
        var body = await OkAsync("/dicomweb/series?PatientID=P1");
        Assert.Equal([SeriesA1, SeriesA2], body.Values("0020000E"));
        Assert.All(body.EnumerateArray(), s => Assert.Equal("P1", s.Value("00100020")));
        Assert.All(body.EnumerateArray(), s => Assert.Equal("2", s.Value("00201206")));
        Assert.All(body.EnumerateArray(), s => Assert.Equal(StudyA, s.Value("0020000D")));
    }

    [Fact]
    public async Task Instances_of_a_series_are_in_instance_number_order()
    {
        var body = await OkAsync($"/dicomweb/studies/{StudyA}/series/{SeriesA1}/instances");
        Assert.Equal([$"{SeriesA1}.3", $"{SeriesA1}.2", $"{SeriesA1}.1"], body.Values("00080018"));
        var first = body[0];
        HasAll(first, "00080016", "00080018", "00080056", "00081190", "00200013");
        Assert.EndsWith($"/studies/{StudyA}/series/{SeriesA1}/instances/{SeriesA1}.3", first.Value("00081190"));
        Assert.False(first.TryGetProperty("00100020", out _));
        Assert.False(first.TryGetProperty("00201209", out _));
    }

    [Fact]
    public async Task Instances_of_a_study_carry_their_series_attributes()
    {
        var body = await OkAsync($"/dicomweb/studies/{StudyA}/instances");
        Assert.Equal(4, body.GetArrayLength());
        Assert.All(body.EnumerateArray(), i => HasAll(i, "00080060", "0020000E", "00201209"));
        Assert.All(body.EnumerateArray(), i => Assert.False(i.TryGetProperty("00201208", out _)));
    }

    [Fact]
    public async Task Instances_across_studies_carry_study_and_series_attributes()
    {
        var body = await OkAsync("/dicomweb/instances?PatientID=P2");
        Assert.Equal([$"{SeriesB1}.1", $"{SeriesB1}.2"], body.Values("00080018"));
        Assert.All(body.EnumerateArray(), i => HasAll(i, "00100020", "00201208", "00080060", "00201209"));
    }

    [Fact]
    public async Task No_match_is_204_with_no_content()
    {
        foreach (var url in new[] { "/dicomweb/studies?PatientID=nobody", "/dicomweb/studies/1.2.3/series", "/dicomweb/series?Modality=XA",
                     "/dicomweb/instances?SOPInstanceUID=1.2.3", $"/dicomweb/studies/{StudyA}/instances?InstanceNumber=99", $"/dicomweb/studies/{StudyA}/series/1.2.3/instances" })
        {
            var (response, _) = await Client.QidoAsync(url);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Theory]
    [InlineData("application/dicom+json")]
    [InlineData("application/json")]
    [InlineData("*/*")]
    [InlineData("application/dicom+xml;q=0.5, application/dicom+json")]
    public async Task Json_media_types_and_wildcards_are_accepted(string accept)
    {
        var (response, _) = await Client.QidoAsync("/dicomweb/studies?PatientID=P1", accept);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/dicom+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("multipart/related; type=\"application/dicom\"")]
    [InlineData("application/dicom+xml;q=0")]
    [InlineData("text/html")]
    public async Task Other_media_types_are_406(string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dicomweb/studies");
        request.Headers.TryAddWithoutValidation("Accept", accept);
        var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotAcceptable, response.StatusCode);
    }

    [Theory]
    [InlineData("/dicomweb/studies?Foo=1", "Foo")]
    [InlineData("/dicomweb/studies?0009AB12=1", "private")]
    [InlineData("/dicomweb/studies?StudyDate=2024", "2024")]
    [InlineData("/dicomweb/studies?StudyDate=20240101-2025", "2025")]
    [InlineData("/dicomweb/studies?StudyDate=-", "bound")]
    [InlineData("/dicomweb/studies?StudyTime=25", "25")]
    [InlineData("/dicomweb/studies?StudyInstanceUID=1.2.*", "UID")]
    [InlineData("/dicomweb/studies?NumberOfStudyRelatedSeries=two", "integer")]
    [InlineData("/dicomweb/studies?Modality=CT", "series-level")]
    [InlineData("/dicomweb/series?SOPInstanceUID=1.2.3", "instance-level")]
    [InlineData("/dicomweb/studies?Rows=512", "VR US")]
    [InlineData("/dicomweb/studies?limit=abc", "limit")]
    [InlineData("/dicomweb/studies?limit=0", "limit")]
    [InlineData("/dicomweb/studies?offset=-1", "offset")]
    [InlineData("/dicomweb/studies?fuzzymatching=yes", "fuzzymatching")]
    [InlineData("/dicomweb/studies?includefield=NoSuchThing", "includefield")]
    [InlineData("/dicomweb/studies?PatientID=P1&PatientID=P2", "more than once")]
    [InlineData("/dicomweb/studies?ReferencedStudySequence.ReferencedSOPInstanceUID=1.2", "sequences")]
    [InlineData("/dicomweb/studies/not-a-uid/series", "UID")]
    public async Task Unknown_attributes_and_bad_values_are_400_with_a_reason(string url, string reason)
    {
        var (response, body) = await Client.QidoAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(reason, body.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Without_the_studies_read_scope_it_is_403_and_without_a_key_401()
    {
        var ordersOnly = await fixture.App.ClientForTenantAsync(Tenant, "orders.read");
        Assert.Equal(HttpStatusCode.Forbidden, (await ordersOnly.GetAsync("/dicomweb/studies")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.App.CreateClient().GetAsync("/dicomweb/instances")).StatusCode);
    }

    [Fact]
    public async Task Includefield_adds_attributes_and_all_returns_every_attribute_of_the_level()
    {
        var listed = (await OkAsync("/dicomweb/studies?PatientID=P1&includefield=InstitutionName,00101010&includefield=00080201")).EnumerateArray().Single();
        Assert.Equal("General Hospital", listed.Value("00080080"));
        Assert.False(listed.TryGetProperty("00101010", out _), "an attribute the study does not have");

        var dotted = (await OkAsync($"/dicomweb/studies?StudyInstanceUID={CorpusStudy}&includefield=OtherPatientIDsSequence.PatientID")).EnumerateArray().Single();
        Assert.Equal(2, dotted.GetProperty("00101002").GetProperty("Value").GetArrayLength());

        var all = (await OkAsync($"/dicomweb/studies?StudyInstanceUID={CorpusStudy}&includefield=all")).EnumerateArray().Single();
        HasAll(all, "00101002", "00101030", "00080080"); // OtherPatientIDsSequence, PatientWeight, InstitutionName of CT_small
        Assert.False(all.TryGetProperty("00280010", out _), "an instance attribute in a study result");

        var instance = (await OkAsync($"/dicomweb/studies/{CorpusStudy}/instances?includefield=all")).EnumerateArray().Single();
        HasAll(instance, "00080008", "00280010", "00280011", "00180050", "00100020", "00201209");
        Assert.False(instance.TryGetProperty("00201208", out _), "study attributes when the study is in the path");
        Assert.False(instance.TryGetProperty("7FE00010", out _), "bulk data in a query result");
    }

    [Fact]
    public async Task Match_keys_are_returned_even_when_empty_and_universal()
    {
        var body = await OkAsync($"/dicomweb/studies/{StudyA}/series?SeriesDescription=&BodyPartExamined=*");
        Assert.Equal(2, body.GetArrayLength());
        Assert.All(body.EnumerateArray(), s => Assert.True(s.TryGetProperty("0008103E", out _)));
    }
}
