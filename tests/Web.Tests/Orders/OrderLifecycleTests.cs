using System.Net;
using System.Net.Http.Json;
using EventSourced.Application.Orders.CheckingMetadataDeadline;
using EventSourced.Dicom;
using EventSourced.Domain.Orders;
using EventSourced.Web.Tests.Support;
using Marten;

namespace EventSourced.Web.Tests.Orders;

/// <summary>
/// The order's life through HTTP. Instances stored for its study (any channel) and metadata
/// (PATCH or the instances' DICOM tags) move it on; /status shows the derived state.
/// </summary>
public sealed class OrderLifecycleTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private static readonly DicomTag PatientBirthDate = new(0x0010, 0x0030);
    private static readonly DicomTag PatientSex = new(0x0010, 0x0040);

    /// <summary>A real instance of the study, with or without Patient's Birth Date and Sex in its header.</summary>
    internal static (byte[] Bytes, string Sop) Instance(string studyUid, bool withPatientTags)
    {
        var (bytes, _, _, sop) = SyntheticInstances.Create(studyUid);
        var file = DicomReader.Read(bytes);
        file.Dataset.Remove(PatientBirthDate);
        file.Dataset.Remove(PatientSex);
        if (withPatientTags)
        {
            file.Dataset.AddString(PatientBirthDate, DicomVR.DA, "19700101");
            file.Dataset.AddString(PatientSex, DicomVR.CS, "F");
        }

        return (DicomWriter.ToBytes(file), sop);
    }

    internal static async Task StowAsync(HttpClient client, byte[] instance)
    {
        var response = await client.PostAsync("/dicomweb/studies", Multipart.Related(instance));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    internal static Task<string> EventuallyStatus(HttpClient client, Guid orderId, string expected) =>
        Eventually.Until(() => client.StatusOfAsync(orderId), s => s == expected, TimeSpan.FromSeconds(60), $"order {orderId} to be {expected}");

    [Fact]
    public async Task An_instance_stored_through_STOW_moves_the_order_to_images_arriving_and_PATCHed_metadata_makes_it_ready()
    {
        const string tenant = "lifecycle-stow";
        var client = await fixture.App.ClientForTenantAsync(tenant);
        var studyUid = Support.Orders.NewStudyUid();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));
        Assert.Equal("scheduled", await client.StatusOfAsync(orderId));

        var (bytes, sop) = Instance(studyUid, withPatientTags: false);
        await StowAsync(client, bytes);
        await EventuallyStatus(client, orderId, "images_arriving");

        var patch = await client.PatchAsync($"/add-metadata?order_id={orderId}", Json.Body("""{"PatientBirthDate":"19700101","PatientSex":"F"}""", "application/json"));
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal("ready_for_processing", await client.StatusOfAsync(orderId));

        // Every transition is an event with its time and principal.
        await using var session = fixture.App.Store.QuerySession(tenant);
        var events = await session.Events.FetchStreamAsync(orderId);
        var arrived = Assert.Single(events.Select(e => e.Data).OfType<OrderImagesArrived>());
        Assert.Equal([sop], arrived.SopInstanceUids);
        Assert.Equal($"{tenant}-client", arrived.StoredBy.Subject);
        Assert.Empty(arrived.MetadataInHeaders.Intersect(["PatientBirthDate", "PatientSex"]));
    }

    [Fact]
    public async Task Patient_birth_date_and_sex_in_the_stored_header_satisfy_the_required_metadata()
    {
        var client = await fixture.App.ClientForTenantAsync("lifecycle-tags");
        var studyUid = Support.Orders.NewStudyUid();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));

        await StowAsync(client, Instance(studyUid, withPatientTags: true).Bytes);

        await EventuallyStatus(client, orderId, "ready_for_processing");
        var (_, body) = await client.GetJsonAsync($"/status?order_id={orderId}");
        Assert.Equal(0, body.GetProperty("missing_metadata").GetArrayLength());
    }

    [Fact]
    public async Task The_deadline_fails_an_order_still_missing_metadata_but_not_one_whose_metadata_came_in_the_headers()
    {
        const string tenant = "lifecycle-deadline";
        var client = await fixture.App.ClientForTenantAsync(tenant);
        var tagged = Support.Orders.NewStudyUid();
        var bare = Support.Orders.NewStudyUid();
        var taggedOrder = await client.CreateOkAsync(Support.Orders.MandatoryOnly(tagged));
        var bareOrder = await client.CreateOkAsync(Support.Orders.MandatoryOnly(bare));
        await StowAsync(client, Instance(tagged, withPatientTags: true).Bytes);
        await StowAsync(client, Instance(bare, withPatientTags: false).Bytes);
        await EventuallyStatus(client, taggedOrder, "ready_for_processing");
        await EventuallyStatus(client, bareOrder, "images_arriving");

        // The scheduled check's own handler, run as if its due time (15 minutes away) had come.
        foreach (var orderId in new[] { taggedOrder, bareOrder })
        {
            await using var session = fixture.App.Store.LightweightSession(tenant);
            await CheckOrderMetadataDeadlineHandler.Handle(new CheckOrderMetadataDeadline(orderId), session, new FixedClock(DateTimeOffset.UtcNow.AddHours(1)), CancellationToken.None);
            await session.SaveChangesAsync();
        }

        Assert.Equal("ready_for_processing", await client.StatusOfAsync(taggedOrder));
        Assert.Equal("failed", await client.StatusOfAsync(bareOrder));
    }

    [Fact]
    public async Task A_STOW_response_returns_with_the_order_and_the_register_already_noting_the_images()
    {
        // Recorded in the STOW's own transaction, not by a message handled after it: no waiting.
        const string tenant = "lifecycle-stow-atonce";
        var client = await fixture.App.ClientForTenantAsync(tenant);
        var studyUid = Support.Orders.NewStudyUid();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));

        await StowAsync(client, Instance(studyUid, withPatientTags: false).Bytes);

        Assert.Equal("images_arriving", await client.StatusOfAsync(orderId));
        await using var session = fixture.App.Store.QuerySession(tenant);
        var register = await session.Events.AggregateStreamAsync<StudyOrderRegister>(StudyOrderRegister.StreamId(tenant, studyUid));
        Assert.True(register is { HasImages: true });
    }

    [Fact]
    public async Task An_order_created_for_a_study_already_holding_images_starts_from_them()
    {
        const string tenant = "lifecycle-images-first";
        var client = await fixture.App.ClientForTenantAsync(tenant);
        var studyUid = Support.Orders.NewStudyUid();
        await StowAsync(client, Instance(studyUid, withPatientTags: true).Bytes);
        await Eventually.Until(
            async () =>
            {
                await using var session = fixture.App.Store.QuerySession(tenant);
                return await session.Events.AggregateStreamAsync<StudyOrderRegister>(StudyOrderRegister.StreamId(tenant, studyUid));
            },
            r => r is { HasImages: true },
            TimeSpan.FromSeconds(60),
            "the study's register to note its images");

        var response = await client.CreateAsync(Support.Orders.MandatoryOnly(studyUid));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.Equal(0, created.GetProperty("missingMetadata").GetArrayLength());
        Assert.Equal("ready_for_processing", await client.StatusOfAsync(created.GetProperty("orderId").GetGuid()));
    }

    [Fact]
    public async Task Instances_advance_the_study_s_active_order_not_an_ended_one()
    {
        var client = await fixture.App.ClientForTenantAsync("lifecycle-two-orders");
        var studyUid = Support.Orders.NewStudyUid();
        var first = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/o3-dpacs-wado/orders/delete?studyUid={studyUid}")).StatusCode);
        var second = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));

        await StowAsync(client, Instance(studyUid, withPatientTags: false).Bytes);

        await EventuallyStatus(client, second, "images_arriving");
        Assert.Equal("deleted", await client.StatusOfAsync(first));
    }

    [Fact]
    public async Task Instances_uploaded_through_document_c_exams_advance_the_order_too()
    {
        var client = await fixture.App.ClientForTenantAsync("lifecycle-exams");
        var studyUid = Support.Orders.NewStudyUid();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));

        using var form = new MultipartFormDataContent { { new ByteArrayContent(Instance(studyUid, withPatientTags: true).Bytes), "file", "x.dcm" } };
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/exams", form)).StatusCode);

        await EventuallyStatus(client, orderId, "ready_for_processing");
    }

    [Fact]
    public async Task Parallel_uploads_of_one_study_are_all_recorded_on_its_order()
    {
        const string tenant = "lifecycle-parallel";
        var client = await fixture.App.ClientForTenantAsync(tenant);
        var studyUid = Support.Orders.NewStudyUid();
        var orderId = await client.CreateOkAsync(Support.Orders.MandatoryOnly(studyUid));
        var instances = Enumerable.Range(0, 12).Select(i => Instance(studyUid, withPatientTags: i == 7)).ToList();

        await Task.WhenAll(instances.Select(i => StowAsync(client, i.Bytes)));

        await EventuallyStatus(client, orderId, "ready_for_processing");
        var recorded = await Eventually.Until(
            async () =>
            {
                await using var session = fixture.App.Store.QuerySession(tenant);
                var events = await session.Events.FetchStreamAsync(orderId);
                return events.Select(e => e.Data).OfType<OrderImagesArrived>().SelectMany(a => a.SopInstanceUids).ToHashSet();
            },
            sops => sops.Count == instances.Count,
            TimeSpan.FromSeconds(60),
            "every instance to be recorded on the order");
        Assert.True(recorded.SetEquals(instances.Select(i => i.Sop)));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
