using System.Net;
using EventSourced.Dicom;
using EventSourced.Domain.Archive;
using EventSourced.Web.Tests.Support;
using Marten;
using static EventSourced.Web.Tests.Archive.ArchiveSupport;

namespace EventSourced.Web.Tests.Archive;

/// <summary>
/// One archive for every channel: a study received through STOW-RS (or document c's exams upload, or
/// document b's presigned upload) is filed in the configured default Project/Archive of document d
/// (Ingestion:DefaultProject / Ingestion:DefaultArchive, "default"/"default"), so document d reads it too.
/// </summary>
public sealed class OneArchiveForEveryChannelTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "one-archive";

    [Fact]
    public async Task A_study_sent_by_STOW_RS_is_read_through_document_d_in_the_default_archive()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var patient = "P-STOW-" + Guid.NewGuid().ToString("N")[..8];
        var first = Create(patient, attributes: [("InstanceNumber", DicomVR.IS, "1"), ("SeriesDescription", DicomVR.LO, "Axial")]);
        var second = Create(patient, first.Study, first.Series, template: "MR_small.dcm", attributes: [("InstanceNumber", DicomVR.IS, "2"), ("SeriesDescription", DicomVR.LO, "Axial")]);
        var other = Create(patient, first.Study, attributes: [("InstanceNumber", DicomVR.IS, "1")]);
        var stow = await client.PostAsync("/dicomweb/studies", Multipart.Related(first.Bytes, second.Bytes, other.Bytes));
        Assert.Equal(HttpStatusCode.OK, stow.StatusCode);

        var p = new[] { ("Project", "default"), ("Archive", "default"), ("PatientID", patient) };
        var s = p.Append(("StudyInstanceUID", first.Study)).ToArray();
        var r = s.Append(("SeriesInstanceUID", first.Series)).ToArray();

        Assert.Equal(patient, (await client.GetOkAsync("/api/v1/patient/get/" + Query(p))).GetProperty("PatientID").GetString());
        var studies = await client.GetOkAsync("/api/v1/patient/studies/list/" + Query(p));
        Assert.Equal([first.Study], studies.EnumerateArray().Select(e => e.GetProperty("StudyInstanceUID").GetString()));
        Assert.Equal(first.Study, (await client.GetOkAsync("/api/v1/study/get/" + Query(s))).GetProperty("StudyInstanceUID").GetString());

        var series = await client.GetOkAsync("/api/v1/patient/study/series/list/" + Query(s));
        Assert.Equal(new[] { first.Series, other.Series }.Order(), series.EnumerateArray().Select(e => e.GetProperty("SeriesInstanceUID").GetString()!).Order());
        var one = await client.GetOkAsync("/api/v1/series/get/" + Query(r));
        Assert.Equal("Axial", one.GetProperty("SeriesDescription").GetString());
        Assert.Equal("2 instances stored.", one.GetProperty("status_message").GetString());

        // The series zip holds the files STOW-RS received, byte for byte; Info-ZIP and Python agree it is sound.
        var zip = await client.GetAsync("/api/v1/dicom/get/" + Query(r));
        Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
        var bytes = await zip.Content.ReadAsByteArrayAsync();
        var entries = Entries(bytes);
        Assert.Equal(new[] { $"{first.Sop}.dcm", $"{second.Sop}.dcm" }.Order(), entries.Keys.Order());
        Assert.Equal(first.Bytes, entries[$"{first.Sop}.dcm"]);
        Assert.Equal(second.Bytes, entries[$"{second.Sop}.dcm"]);
        Assert.Contains("No errors detected", OutsideTools(bytes).UnzipTest);

        // Filed by the channel's own actor, in the study's stream, in the same transaction as the store.
        await using var session = fixture.App.Store.QuerySession(Tenant);
        var events = await session.Events.FetchStreamAsync(Domain.Studies.Study.StreamId(Tenant, first.Study));
        // Carried by the request's one InstancesStored (one row for its instances), not appended beside it.
        Assert.Empty(events.Select(e => e.Data).OfType<InstanceFiledInArchive>());
        Assert.Single(events, e => e.Data is Domain.Studies.InstancesStored);
        var filed = Domain.Studies.InstancesStored.Unbatched(events.Select(e => e.Data)).OfType<Domain.Studies.InstanceStored>().SelectMany(e => e.Filings()).ToList();
        Assert.Equal(3, filed.Count);
        Assert.All(filed, f => Assert.Equal(("default", "default", "stow-rs"), (f.Project, f.Archive, f.FiledBy.Via)));
    }

    [Fact]
    public async Task Filings_stored_as_events_of_their_own_before_InstanceStored_carried_them_still_project_alike()
    {
        // A study stored now: one InstancesStored carries the request's instances and their filing.
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var patient = "P-SHAPE-" + Guid.NewGuid().ToString("N")[..8];
        var first = Create(patient);
        var second = Create(patient, first.Study, first.Series);
        var retina = Create(patient, first.Study, template: "SC_rgb_small_odd.dcm", sopClass: OphthalmicPhotography8Bit);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(first.Bytes, second.Bytes, retina.Bytes))).StatusCode);
        List<Domain.Studies.InstanceStored> stored;
        await using (var session = fixture.App.Store.QuerySession(Tenant))
        {
            stored = [.. Domain.Studies.InstancesStored.Unbatched((await session.Events.FetchStreamAsync(Domain.Studies.Study.StreamId(Tenant, first.Study)))
                .Select(e => e.Data)).OfType<Domain.Studies.InstanceStored>()];
        }

        Assert.Equal(3, stored.Count(e => e.FiledIn is not null));

        // The same facts in the shape the log holds from before: InstanceStored, then InstanceFiledInArchive beside it.
        const string legacy = "one-archive-legacy";
        var legacyStream = Domain.Studies.Study.StreamId(legacy, first.Study);
        await using (var session = fixture.App.Store.LightweightSession(legacy))
        {
            var events = stored.SelectMany(e => new object[]
            {
                e with { StudyStreamId = legacyStream, FiledIn = null },
                e.Filings()[0] with { StudyStreamId = legacyStream },
            });
            session.Events.StartStream<Domain.Studies.Study>(legacyStream, events);
            await session.SaveChangesAsync();
        }

        // Document d's records, and what the study aggregate decides from, read alike from either shape.
        var now = await ArchiveRecordsAsync(Tenant, Domain.Studies.Study.StreamId(Tenant, first.Study));
        var before = await ArchiveRecordsAsync(legacy, legacyStream);
        Assert.Equal(3, now.Count); // the study, its series, the retina instance's series of its own
        Assert.Equal(now, before);
        await using (var session = fixture.App.Store.QuerySession(legacy))
        {
            var study = await session.Events.AggregateStreamAsync<Domain.Studies.Study>(legacyStream);
            var filing = study!.Archives[new ArchivePlacement("default", "default").Key];
            Assert.Equal(patient, filing.PatientId);
            Assert.Equal(new[] { first.Sop, second.Sop, retina.Sop }.Order(), filing.SopInstanceUids.Order());
            Assert.Equal(new[] { first.Series, retina.Sop }.Order(), filing.SeriesKeys.Order());
        }
    }

    /// <summary>Document d's study and series records of a study, without the keys derived from the tenant.</summary>
    private async Task<List<string>> ArchiveRecordsAsync(string tenant, Guid studyStream)
    {
        await using var session = fixture.App.Store.QuerySession(tenant);
        var studies = await session.Query<Projections.Archive.ArchiveStudy>().Where(s => s.StudyKey == studyStream).ToListAsync();
        var series = await session.Query<Projections.Archive.ArchiveSeries>().Where(s => s.StudyKey == studyStream).ToListAsync();
        return
        [
            .. studies.Select(s => System.Text.Json.JsonSerializer.Serialize(s with { Id = Guid.Empty, StudyKey = Guid.Empty })),
            .. series.Select(s => System.Text.Json.JsonSerializer.Serialize(s with { Id = Guid.Empty, ArchiveStudyId = Guid.Empty, StudyKey = Guid.Empty }))
                .Order(StringComparer.Ordinal),
        ];
    }

    [Fact]
    public async Task An_instance_the_default_archive_cannot_take_is_still_stored_by_the_other_channels()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var anonymous = Create(""); // no PatientID: document d files by patient, STOW-RS does not need one
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/dicomweb/studies", Multipart.Related(anonymous.Bytes))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/dicomweb/studies/{anonymous.Study}/metadata")).StatusCode);

        await using var session = fixture.App.Store.QuerySession(Tenant);
        var events = await session.Events.FetchStreamAsync(Domain.Studies.Study.StreamId(Tenant, anonymous.Study));
        Assert.Empty(events.Select(e => e.Data).OfType<InstanceFiledInArchive>());
        Assert.All(events.Select(e => e.Data).OfType<Domain.Studies.InstanceStored>(), e => Assert.Null(e.FiledIn));
    }

    [Fact]
    public async Task A_study_sent_through_the_presigned_upload_is_in_the_default_archive_too()
    {
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        var patient = "P-PUT-" + Guid.NewGuid().ToString("N")[..8];
        var instance = Create(patient);
        var issued = await client.GetAsync("/upload");
        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
        var url = new Uri(System.Text.Json.JsonDocument.Parse(await issued.Content.ReadAsStringAsync()).RootElement.GetProperty("url").GetString()!).PathAndQuery;
        var put = new ByteArrayContent(instance.Bytes);
        put.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/dicom");
        Assert.Equal(HttpStatusCode.OK, (await fixture.App.CreateClient().PutAsync(url, put)).StatusCode);

        var r = new[] { ("Project", "default"), ("Archive", "default"), ("PatientID", patient), ("StudyInstanceUID", instance.Study), ("SeriesInstanceUID", instance.Series) };
        Assert.Equal("1 instance stored.", (await client.GetOkAsync("/api/v1/series/get/" + Query(r))).GetProperty("status_message").GetString());
    }
}
