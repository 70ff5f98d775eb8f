using System.Net;
using EventSourced.Dicom;
using EventSourced.Web.Shared.Qido;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace EventSourced.Web.Tests.Qido;

/// <summary>limit/offset over a stable order, and tenant isolation of equal UIDs; each test on a tenant of its own.</summary>
[Collection(QidoCollection.Name)]
public sealed class QidoPagingAndTenancyTests(QidoFixture fixture)
{
    private static readonly string Root = "1.2.826.0.1.3680043.10.544." + DateTime.UtcNow.Ticks;

    [Fact]
    public async Task Pages_of_the_stable_order_cover_every_match_exactly_once()
    {
        const string tenant = "qido-paging";
        for (var i = 0; i < 7; i++)
        {
            var study = $"{Root}.{i}";
            await fixture.App.StoreAsync(tenant, QidoSupport.FromDataset(QidoSupport.Synthetic(study, study + ".1", study + ".1.1",
                ("PatientID", DicomVR.LO, "PAGE"), ("Modality", DicomVR.CS, "OT"))));
        }

        var client = await fixture.App.ClientForTenantAsync(tenant, "studies.read");
        var (allResponse, all) = await client.QidoAsync("/dicomweb/studies?PatientID=PAGE");
        Assert.Equal(HttpStatusCode.OK, allResponse.StatusCode);
        Assert.False(allResponse.Headers.Contains("Warning"));
        var order = all.Values("0020000D");
        Assert.Equal(7, order.Count);
        Assert.Equal(order, (await client.QidoAsync("/dicomweb/studies?PatientID=PAGE")).Body.Values("0020000D"));

        var paged = new List<string?>();
        for (var offset = 0; offset < 7; offset += 3)
        {
            var (response, page) = await client.QidoAsync($"/dicomweb/studies?PatientID=PAGE&limit=3&offset={offset}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(offset + 3 < 7, response.Headers.Contains("Warning"));
            paged.AddRange(page.Values("0020000D"));
        }

        Assert.Equal(order, paged);
        Assert.Equal(HttpStatusCode.NoContent, (await client.QidoAsync("/dicomweb/studies?PatientID=PAGE&offset=7")).Response.StatusCode);

        var instances = (await client.QidoAsync("/dicomweb/instances?limit=2&offset=1")).Body.Values("00080018");
        // Instances are ordered by study, series and instance (UIDs as text), studies by arrival, newest first.
        Assert.Equal(order.Order(StringComparer.Ordinal).Skip(1).Take(2).Select(s => s + ".1.1"), instances);
        Assert.Equal(order, order.OrderBy(s => s, StringComparer.Ordinal).Reverse());
    }

    /// <summary>
    /// Series and instance pages after the first are read keys first (QidoRows.Page), the first page in one scan: the
    /// pages, put together, are the whole answer read in one page, result for result and byte for byte.
    /// </summary>
    [Theory]
    [InlineData("series")]
    [InlineData("instances")]
    public async Task Pages_after_the_first_read_keys_first_are_the_whole_answer_byte_for_byte(string level)
    {
        var tenant = "qido-keys-first-" + level;
        for (var i = 0; i < 4; i++)
        {
            var study = $"{Root}.9{i}";
            for (var j = 1; j <= 2; j++)
            {
                for (var k = 1; k <= 2; k++)
                {
                    await fixture.App.StoreAsync(tenant, QidoSupport.FromDataset(QidoSupport.Synthetic(study, $"{study}.{j}", $"{study}.{j}.{k}",
                        ("PatientID", DicomVR.LO, "KEYS"), ("Modality", DicomVR.CS, j == 1 ? "CT" : "MR"), ("SeriesNumber", DicomVR.IS, $"{3 - j}"),
                        ("InstanceNumber", DicomVR.IS, $"{3 - k}"), ("SeriesDescription", DicomVR.LO, $"series {i}.{j}"))));
                }
            }
        }

        var client = await fixture.App.ClientForTenantAsync(tenant, "studies.read");
        var (_, whole) = await client.QidoAsync($"/dicomweb/{level}?PatientID=KEYS&includefield=all&limit=200");
        var expected = whole.EnumerateArray().Select(r => r.GetRawText()).ToList();
        Assert.Equal(level == "series" ? 8 : 16, expected.Count);

        var paged = new List<string>();
        for (var offset = 0; offset < expected.Count; offset += 3)
        {
            var (response, page) = await client.QidoAsync($"/dicomweb/{level}?PatientID=KEYS&includefield=all&limit=3&offset={offset}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(offset + 3 < expected.Count, response.Headers.Contains("Warning"));
            paged.AddRange(page.EnumerateArray().Select(r => r.GetRawText()));
        }

        Assert.Equal(expected, paged);
        Assert.Equal(HttpStatusCode.NoContent, (await client.QidoAsync($"/dicomweb/{level}?PatientID=KEYS&offset={expected.Count}")).Response.StatusCode);
    }

    [Fact]
    public async Task A_limit_above_the_maximum_is_lowered_and_said_in_a_warning()
    {
        var (response, body) = await fixture.Client.QidoAsync("/dicomweb/studies?limit=1000");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("lowered to the maximum of 200", response.Headers.GetValues("Warning").Single(), StringComparison.Ordinal);
        Assert.Equal(4, body.GetArrayLength());
    }

    [Fact]
    public async Task A_stored_instance_is_visible_when_the_store_returns_and_a_replacement_shows_at_once()
    {
        const string tenant = "qido-ryw";
        var study = Root + ".77";
        var client = await fixture.App.ClientForTenantAsync(tenant, "studies.read");
        await fixture.App.StoreAsync(tenant, QidoSupport.FromDataset(QidoSupport.Synthetic(study, study + ".1", study + ".1.1",
            ("PatientID", DicomVR.LO, "RYW"), ("Modality", DicomVR.CS, "CT"), ("InstanceNumber", DicomVR.IS, "1"))));
        Assert.Equal("1", Assert.Single((await client.QidoAsync($"/dicomweb/instances?PatientID=RYW")).Body.EnumerateArray()).Value("00200013"));

        var replaced = await fixture.App.StoreAsync(tenant, QidoSupport.FromDataset(QidoSupport.Synthetic(study, study + ".1", study + ".1.1",
            ("PatientID", DicomVR.LO, "RYW2"), ("Modality", DicomVR.CS, "CT"), ("InstanceNumber", DicomVR.IS, "5")), length: 2000));
        Assert.Equal(Domain.Studies.StoreOutcome.Replaced, replaced.Outcome);
        var instance = Assert.Single((await client.QidoAsync($"/dicomweb/instances?StudyInstanceUID={study}")).Body.EnumerateArray());
        Assert.Equal("5", instance.Value("00200013"));
        Assert.Equal("RYW2", instance.Value("00100020"));
        Assert.Equal("1", instance.Value("00201208"));
        Assert.Equal(HttpStatusCode.NoContent, (await client.QidoAsync("/dicomweb/studies?PatientID=RYW")).Response.StatusCode);
    }

    [Fact]
    public void The_default_limit_is_100_and_the_maximum_200()
    {
        Assert.Equal(100, QidoQuery.Parse(new QueryCollection(), QidoLevel.Study).Query!.Limit);
        Assert.Equal(200, QidoQuery.Parse(new QueryCollection(new Dictionary<string, Microsoft.Extensions.Primitives.StringValues> { ["limit"] = "5000" }), QidoLevel.Study).Query!.Limit);
    }

    [Fact]
    public async Task The_same_study_uid_in_two_tenants_is_two_studies_each_seeing_only_its_own()
    {
        var study = Root + ".99";
        await fixture.App.StoreAsync("qido-t1", QidoSupport.FromDataset(QidoSupport.Synthetic(study, study + ".1", study + ".1.1", ("PatientID", DicomVR.LO, "T1"), ("Modality", DicomVR.CS, "CT"))));
        await fixture.App.StoreAsync("qido-t1", QidoSupport.FromDataset(QidoSupport.Synthetic(study, study + ".1", study + ".1.2", ("PatientID", DicomVR.LO, "T1"), ("Modality", DicomVR.CS, "CT"))));
        await fixture.App.StoreAsync("qido-t2", QidoSupport.FromDataset(QidoSupport.Synthetic(study, study + ".1", study + ".1.1", ("PatientID", DicomVR.LO, "T2"), ("Modality", DicomVR.CS, "MR"))));

        foreach (var (tenant, patient, other, instances, modality) in new[] { ("qido-t1", "T1", "T2", 2, "CT"), ("qido-t2", "T2", "T1", 1, "MR") })
        {
            var client = await fixture.App.ClientForTenantAsync(tenant, "studies.read");
            var studies = (await client.QidoAsync($"/dicomweb/studies?StudyInstanceUID={study}")).Body;
            Assert.Equal(patient, Assert.Single(studies.EnumerateArray()).Value("00100020"));
            Assert.Equal(instances.ToString(), studies[0].Value("00201208"));
            Assert.Equal(modality, studies[0].Value("00080061"));
            Assert.Equal(modality, Assert.Single((await client.QidoAsync($"/dicomweb/studies/{study}/series")).Body.EnumerateArray()).Value("00080060"));
            Assert.Equal(instances, (await client.QidoAsync($"/dicomweb/studies/{study}/instances")).Body.GetArrayLength());
            Assert.Equal(instances, (await client.QidoAsync($"/dicomweb/instances?StudyInstanceUID={study}")).Body.GetArrayLength());
            Assert.Equal(HttpStatusCode.NoContent, (await client.QidoAsync($"/dicomweb/studies?PatientID={other}")).Response.StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await client.QidoAsync($"/dicomweb/series?PatientID={other}")).Response.StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await client.QidoAsync($"/dicomweb/instances?PatientID={other}")).Response.StatusCode);
        }

        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(distinct tenant_id), count(distinct id) from eventsourced.mt_doc_qidoseries where study_instance_uid = @uid", connection);
        command.Parameters.AddWithValue("uid", study);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal((2L, 2L), (reader.GetInt64(0), reader.GetInt64(1)));
    }
}
