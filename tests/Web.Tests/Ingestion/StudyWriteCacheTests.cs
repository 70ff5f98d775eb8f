using System.Net;
using System.Text.Json;
using EventSourced.Application.Ingestion.StoringInstances;
using EventSourced.Application.Orders.RecordingImages;
using EventSourced.Application.Patients;
using EventSourced.Dicom;
using EventSourced.Domain.Studies;
using EventSourced.Web.Tests.Patients;
using EventSourced.Web.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourced.Web.Tests.Ingestion;

/// <summary>
/// The study aggregate a store leaves is kept for the study's next store (<see cref="StudyWriteCache"/>), and the
/// patient's for filing its next new study (<see cref="PatientWriteCache"/>), through HTTP on a real PostgreSQL: what
/// is kept is, after every store, what folding the stream from the log gives, at the stream's version; the next store
/// starts from it; and a patient's erasure, which masks the log's events in place without a new event on every
/// stream, is not hidden by it.
/// </summary>
public sealed class StudyWriteCacheTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "study-cache";

    private StudyWriteCache Cache => fixture.App.Services.GetRequiredService<StudyWriteCache>();

    private PatientWriteCache Patients => fixture.App.Services.GetRequiredService<PatientWriteCache>();

    private OrderWriteCache Orders => fixture.App.Services.GetRequiredService<OrderWriteCache>();

    [Fact]
    public async Task A_study_sent_instance_by_instance_starts_each_store_from_the_kept_aggregate_which_equals_the_log()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var study = DicomUid.Generate();
        var series = DicomUid.Generate();
        var hits = Cache.Hits;
        for (var i = 0; i < 4; i++)
        {
            var bytes = PatientSupport.Instance(study, series, DicomUid.Generate(), "PID-CACHE-1", "CACHE^ONE");
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(bytes))).StatusCode);
            await AssertKeptEqualsTheLogAsync(study, instances: i + 1);
        }

        // The first store folded the (new) study; the three after it started from what the one before had kept.
        Assert.Equal(3, Cache.Hits - hits);
    }

    [Fact]
    public async Task New_studies_of_one_patient_file_under_the_kept_patient_which_equals_the_log()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        const string patientId = "PID-CACHE-FILED";
        var hits = Patients.Hits;
        var studies = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            studies.Add(DicomUid.Generate());
            var bytes = PatientSupport.Instance(studies[^1], DicomUid.Generate(), DicomUid.Generate(), patientId, "FILED^CACHE");
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(bytes))).StatusCode);

            var kept = await AssertKeptEqualsTheLogAsync(Patients, Domain.Patients.Patient.StreamId(Tenant, null, patientId));
            Assert.Equal(studies.Order(StringComparer.Ordinal), kept.Studies.ToList());
        }

        // The first study registered the patient; the three after it were filed under what the one before had kept.
        Assert.Equal(3, Patients.Hits - hits);
    }

    [Fact]
    public async Task Images_of_an_ordered_study_sent_one_by_one_are_recorded_on_the_kept_order_which_equals_the_log()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var study = DicomUid.Generate();
        var orderId = await client.CreateOkAsync(Support.Orders.ExampleBody(study));
        var hits = Orders.Hits;
        for (var i = 0; i < 3; i++)
        {
            var bytes = PatientSupport.Instance(study, DicomUid.Generate(), DicomUid.Generate(), "NONE", "SURNAME^NAME");
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(bytes))).StatusCode);
            await AssertKeptEqualsTheLogAsync(Orders, orderId);
        }

        // Each arrival appended to the order; the two after the first were recorded on what the one before had kept.
        Assert.Equal(2, Orders.Hits - hits);
        await using var session = fixture.App.Store.QuerySession(Tenant);
        Assert.Equal(3, (await session.Events.FetchStreamAsync(orderId)).Count(e => e.Data is Domain.Orders.OrderImagesArrived));
    }

    [Fact]
    public async Task After_a_patients_erasure_the_next_store_folds_the_masked_log_not_the_kept_aggregate()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        const string patientId = "PID-CACHE-ERASED";
        var study = DicomUid.Generate();
        var series = DicomUid.Generate();
        foreach (var _ in new[] { 1, 2 })
        {
            var bytes = PatientSupport.Instance(study, series, DicomUid.Generate(), patientId, "ERASED^CACHE");
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(bytes))).StatusCode);
        }

        Assert.Contains(Cache.Find(Tenant, Study.StreamId(Tenant, study))!.Aggregate.Archives.Values, f => f.PatientId == patientId);

        var erase = await client.PostAsync("/admin/patients/erase", Json.Body($$"""{"patientId":"{{patientId}}","reason":"cache test"}""", "application/json"));
        Assert.Equal(HttpStatusCode.OK, erase.StatusCode);

        // The erasure appended its events to the study's stream and masked the earlier ones in place: an aggregate
        // brought forward from the kept one would still name the patient in its archive filing; the log does not.
        var third = PatientSupport.Instance(study, series, DicomUid.Generate(), patientId, "ERASED^CACHE");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(third))).StatusCode);
        var kept = await AssertKeptEqualsTheLogAsync(study, instances: 3);
        Assert.DoesNotContain(kept.Archives.Values, f => f.PatientId == patientId);
    }

    /// <summary>The kept study, with its instance count checked.</summary>
    private async Task<Study> AssertKeptEqualsTheLogAsync(string studyUid, int instances)
    {
        var kept = await AssertKeptEqualsTheLogAsync(Cache, Study.StreamId(Tenant, studyUid));
        Assert.Equal(instances, kept.Instances.Count);
        return kept;
    }

    /// <summary>The kept aggregate is the log's fold (compared as JSON: the aggregate holds immutable collections) at the stream's version.</summary>
    private async Task<T> AssertKeptEqualsTheLogAsync<T>(Application.Common.AggregateWriteCache<T> cache, Guid id) where T : class
    {
        var kept = cache.Find(Tenant, id);
        Assert.NotNull(kept);
        await using var session = fixture.App.Store.QuerySession(Tenant);
        Assert.Equal((await session.Events.FetchStreamStateAsync(id))!.Version, kept.Version);
        Assert.Equal(JsonSerializer.Serialize(await session.Events.AggregateStreamAsync<T>(id)), JsonSerializer.Serialize(kept.Aggregate));
        return kept.Aggregate;
    }
}
