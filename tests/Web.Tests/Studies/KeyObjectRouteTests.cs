using System.Net;
using System.Text.Json;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.Studies;

/// <summary>Document e's "KOS APIs": createKos stores a manifest KOS in the study, kos generates one without storing it.</summary>
public sealed class KeyObjectRouteTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private Task<HttpClient> Client(string tenant) => fixture.App.ClientForTenantAsync(tenant);

    private static Task<HttpResponseMessage> CreateAsync(HttpClient client, string json) =>
        client.PostAsync("/o3-dpacs-wado/studies/createKos", Json.Body(json));

    [Fact]
    public async Task CreateKos_stores_a_manifest_referencing_every_instance_that_QIDO_lists_and_WADO_returns()
    {
        var client = await Client("kos-create");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 2);
        await EventCountAsync();

        var response = await CreateAsync(client, $$"""{"studyInstanceUid":"{{study.Study}}","callingAE":"NGV"}""");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        Assert.True(body.GetProperty("success").GetBoolean());
        var sop = body.GetProperty("sopInstanceUid").GetString()!;
        Assert.Equal(["success", "sopInstanceUid"], body.EnumerateObject().Select(p => p.Name));

        // QIDO lists it as a KO series of the study; WADO-RS returns it; pydicom and DCMTK read it.
        var (_, series) = await client.QidoAsync($"/dicomweb/studies/{study.Study}/series?Modality=KO");
        var koSeries = Assert.Single(series.EnumerateArray()).Value("0020000E")!;
        var (_, instances) = await client.QidoAsync($"/dicomweb/studies/{study.Study}/series/{koSeries}/instances");
        Assert.Equal(sop, Assert.Single(instances.EnumerateArray()).Value("00080018"));
        var wado = await client.GetAsync($"/dicomweb/studies/{study.Study}/series/{koSeries}/instances/{sop}");
        Assert.Equal(HttpStatusCode.OK, wado.StatusCode);
        Assert.Equal("multipart/related", wado.Content.Headers.ContentType?.MediaType);
        var kos = await KeyObjectOracle.RetrieveAsync(client, study.Study, koSeries, sop);
        var dump = KeyObjectOracle.Dump(kos);
        Assert.Contains("[113030]", dump);
        Assert.Contains("[Manifest]", dump);
        var referenced = KeyObjectOracle.ReferencedInstances(kos);
        Assert.Equal(sop, referenced.SopInstanceUid);
        Assert.Equal("113030^DCM^Manifest", referenced.Title);
        Assert.Equal(study.Instances.Select(i => i.Sop).Order(), referenced.Evidence.Order());
        Assert.Equal(referenced.Evidence.Order(), referenced.Content.Order());

        // The event says who, through which channel, and the calling AE.
        var recorded = JsonDocument.Parse(Assert.Single(await EventsAsync("key_object_selection_created", sop))).RootElement;
        Assert.Equal("NGV", recorded.GetProperty("CallingAeTitle").GetString());
        Assert.Equal("pacs-api", recorded.GetProperty("CreatedBy").GetProperty("Via").GetString());
        Assert.False(string.IsNullOrEmpty(recorded.GetProperty("CreatedBy").GetProperty("Subject").GetString()));
        Assert.Equal(4, recorded.GetProperty("ReferencedInstances").GetInt32());
        Assert.Single(await EventsAsync("instance_stored", sop));

        // A second KOS references the study's instances, the first KOS included (it is an instance of the study now).
        var second = await CreateAsync(client, $$"""{"studyInstanceUid":"{{study.Study}}","callingAE":"NGV"}""");
        var secondSop = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("sopInstanceUid").GetString()!;
        Assert.NotEqual(sop, secondSop);
    }

    [Fact]
    public async Task Kos_returns_an_unstored_manifest_named_in_Content_Disposition()
    {
        var client = await Client("kos-generate");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 1);
        var events = await EventCountAsync();

        var response = await client.GetAsync($"/o3-dpacs-wado/studies/kos?studyUid={study.Study}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/dicom", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var referenced = KeyObjectOracle.ReferencedInstances(bytes);
        Assert.Equal($"attachment; filename=\"{referenced.SopInstanceUid}\"", Assert.Single(response.Content.Headers.GetValues("Content-Disposition")));
        Assert.Equal("113030^DCM^Manifest", referenced.Title);
        Assert.Equal(study.Instances.Select(i => i.Sop).Order(), referenced.Evidence.Order());
        Assert.Equal(referenced.Evidence.Order(), referenced.Content.Order());
        Assert.Contains("[Manifest]", KeyObjectOracle.Dump(bytes));

        // Not stored: no KO series, no new instance, no event.
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync($"/dicomweb/studies/{study.Study}/series?Modality=KO")).StatusCode);
        var (_, instances) = await client.QidoAsync($"/dicomweb/instances?StudyInstanceUID={study.Study}");
        Assert.Equal(2, instances.GetArrayLength());
        Assert.Equal(events, await EventCountAsync());
    }

    public static TheoryData<string, HttpStatusCode> CreateErrors => new()
    {
        { "", HttpStatusCode.BadRequest },
        { "not json", HttpStatusCode.BadRequest },
        { "[]", HttpStatusCode.BadRequest },
        { "{}", HttpStatusCode.BadRequest },
        { """{"callingAE":"NGV"}""", HttpStatusCode.BadRequest },
        { """{"studyInstanceUid":123}""", HttpStatusCode.BadRequest },
        { """{"studyInstanceUid":"not-a-uid"}""", HttpStatusCode.BadRequest },
        { """{"studyInstanceUid":"1.2.3","callingAE":"AN-AE-TITLE-TOO-LONG"}""", HttpStatusCode.BadRequest },
        { """{"studyInstanceUid":"1.2.3","extra":1}""", HttpStatusCode.BadRequest },
        { """{"studyInstanceUid":"1.2.999.404","callingAE":"NGV"}""", HttpStatusCode.NotFound },
    };

    [Theory]
    [MemberData(nameof(CreateErrors))]
    public async Task CreateKos_errors_have_the_documented_body_and_append_nothing(string body, HttpStatusCode expected)
    {
        var client = await Client("kos-create-bad");
        var events = await EventCountAsync();
        var response = await CreateAsync(client, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{body} → {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(text).RootElement;
        Assert.False(json.GetProperty("success").GetBoolean());
        Assert.Equal(expected == HttpStatusCode.NotFound ? "STUDY_NOT_FOUND" : "MALFORMED_JSON", json.GetProperty("errorCode").GetString());
        Assert.Equal(events, await EventCountAsync());
    }

    [Theory]
    [InlineData("", HttpStatusCode.BadRequest)]
    [InlineData("?studyUid=", HttpStatusCode.BadRequest)]
    [InlineData("?studyUid=not-a-uid", HttpStatusCode.BadRequest)]
    [InlineData("?studyUid=1.2.3&studyUid=1.2.4", HttpStatusCode.BadRequest)]
    [InlineData("?studyUid=1.2.999.404", HttpStatusCode.NotFound)]
    public async Task Kos_errors_are_problem_details_and_append_nothing(string query, HttpStatusCode expected)
    {
        var client = await Client("kos-generate-bad");
        var events = await EventCountAsync();
        var response = await client.GetAsync("/o3-dpacs-wado/studies/kos" + query);
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(events, await EventCountAsync());
    }

    [Fact]
    public async Task CreateKos_needs_studies_write_and_kos_needs_studies_read()
    {
        var reader = await fixture.App.ClientForTenantAsync("kos-scope", Domain.Tenants.Scopes.StudiesRead);
        Assert.Equal(HttpStatusCode.Forbidden, (await CreateAsync(reader, """{"studyInstanceUid":"1.2.3"}""")).StatusCode);
        var writer = await fixture.App.ClientForTenantAsync("kos-scope", Domain.Tenants.Scopes.StudiesWrite);
        Assert.Equal(HttpStatusCode.Forbidden, (await writer.GetAsync("/o3-dpacs-wado/studies/kos?studyUid=1.2.3")).StatusCode);
    }

    private async Task<List<string>> EventsAsync(string type, string sop)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select data::text from eventsourced.mt_events where type = @type and (data->>'SopInstanceUid' = @sop or data->'Instance'->>'SopInstanceUid' = @sop)", connection);
        command.Parameters.AddWithValue("type", type);
        command.Parameters.AddWithValue("sop", sop);
        var result = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            result.Add(reader.GetString(0));
        }

        return result;
    }

    private Task<long> EventCountAsync() => EventLog.SettledCountAsync(fixture.ConnectionString);
}
