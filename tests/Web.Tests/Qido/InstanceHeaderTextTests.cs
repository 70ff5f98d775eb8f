using System.Net;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Qido;

/// <summary>
/// The instance record keeps its header as JSON text (docs/architecture.md, "Instance records: the header as text"),
/// and a record written before, with the header as an object, is read alike by every SQL reader of the header: the
/// search on an attribute without a column, QIDO-RS's fields, the study's and the series' metadata.
/// </summary>
public sealed class InstanceHeaderTextTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "header-text";

    [Fact]
    public async Task The_record_holds_its_header_as_text_and_one_written_before_as_an_object_reads_alike()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var first = SyntheticInstances.Create();
        var second = SyntheticInstances.Create(first.Study);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(first.Bytes, second.Bytes))).StatusCode);

        var records = $"from eventsourced.mt_doc_qidoinstance where tenant_id = '{Tenant}'";
        Assert.Equal("string", await SqlCommands.ScalarTextAsync(fixture.ConnectionString, $"select string_agg(distinct jsonb_typeof(data -> 'Header'), ',') {records}"));
        // Members that are null for nearly every instance are not written at all.
        Assert.Equal("0", await SqlCommands.ScalarTextAsync(fixture.ConnectionString, $"select count(*) {records} and (data ? 'ReplacedSha256' or data ? 'CallingAeTitle')"));

        // The second record as records were written before: the header an object. Nothing has been retrieved yet, so no answer is cached.
        await SqlCommands.ExecuteAsync(fixture.ConnectionString,
            $"update eventsourced.mt_doc_qidoinstance set data = jsonb_set(data, '{{Header}}', (data ->> 'Header')::jsonb) where tenant_id = '{Tenant}' and sop_instance_uid = '{second.Sop}'");
        Assert.Equal("object,string", await SqlCommands.ScalarTextAsync(fixture.ConnectionString, $"select string_agg(distinct jsonb_typeof(data -> 'Header'), ',' order by jsonb_typeof(data -> 'Header')) {records}"));

        // Matched on an attribute kept only in the header (CT_small: ImageType ORIGINAL\PRIMARY\AXIAL), both forms.
        var (matched, matches) = await client.QidoAsync($"/dicomweb/studies/{first.Study}/instances?ImageType=ORIGINAL&includefield=00080070");
        Assert.Equal(HttpStatusCode.OK, matched.StatusCode);
        Assert.Equal(new[] { first.Sop, second.Sop }.Order(), matches.Values("00080018").Order());
        Assert.All(matches.EnumerateArray(), i => Assert.Equal("GE MEDICAL SYSTEMS", i.Value("00080070")));
        Assert.Equal(HttpStatusCode.NoContent, (await client.QidoAsync($"/dicomweb/studies/{first.Study}/instances?ImageType=DERIVED")).Response.StatusCode);

        // The study's and the series' metadata: each instance's header, whichever form its record holds.
        foreach (var url in new[] { $"/dicomweb/studies/{first.Study}/metadata", $"/dicomweb/studies/{first.Study}/series/{second.Series}/metadata" })
        {
            var (response, metadata) = await client.QidoAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var shown = Assert.Single(metadata.EnumerateArray(), i => i.Value("00080018") == second.Sop);
            Assert.Equal("GE MEDICAL SYSTEMS", shown.Value("00080070"));
            Assert.Equal(["ORIGINAL", "PRIMARY", "AXIAL"], shown.GetProperty("00080008").GetProperty("Value").EnumerateArray().Select(v => v.GetString()));
        }
    }
}
