using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.StudyFeed;
using EventSourced.Web.Tests.Studies;
using EventSourced.Web.Tests.Ingestion;
using EventSourced.Web.Tests.Qido;
using EventSourced.Web.Tests.Support;
using Marten;
using static EventSourced.Web.Tests.Archive.ArchiveSupport;

namespace EventSourced.Web.Tests.Archive;

/// <summary>Document d's patient/study/series delete through HTTP: every read path, each documented error, archive scoping, races, and our restore.</summary>
public sealed class ArchiveDeleteTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private Task<HttpClient> Client(string tenant, params string[] scopes) => fixture.App.ClientForTenantAsync(tenant, scopes);

    internal static (string, string)[] Params(string patient, string? study = null, string? series = null, string project = UploadedStudy.Project, string archive = UploadedStudy.Archive)
    {
        var p = new List<(string, string)> { ("Project", project), ("Archive", archive), ("PatientID", patient) };
        if (study is not null)
        {
            p.Add(("StudyInstanceUID", study));
        }

        if (series is not null)
        {
            p.Add(("SeriesInstanceUID", series));
        }

        return [.. p];
    }

    internal static async Task DeleteOkAsync(HttpClient client, string call, params (string, string)[] parameters)
    {
        var response = await client.GetAsync($"/api/v1/{call}/delete/" + Query(parameters));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{call}/delete → {(int)response.StatusCode}: {body}");
        Assert.Equal("""{"status":"Ok"}""", body);
    }

    internal static Task<HttpResponseMessage> RestoreAsync(HttpClient client, string study, string project = UploadedStudy.Project, string archive = UploadedStudy.Archive) =>
        client.PostAsync("/api/v1/study/restore/" + Query(("Project", project), ("Archive", archive), ("StudyInstanceUID", study)), null);

    private async Task<IReadOnlyList<StudyFeedEntry>> FeedAsync(string tenant, string study, int atLeast) =>
        await Eventually.Until(async () =>
            {
                await using var session = fixture.App.Store.QuerySession(tenant);
                var settled = await StudyFeedReader.SettledThroughAsync(fixture.App.Store, CancellationToken.None);
                return (await StudyFeedReader.ForStudiesAsync(session, settled, [study], CancellationToken.None)).Where(e => e.Kind == StudyChangeKind.Deleted).ToList();
            },
            entries => entries.Count >= atLeast, TimeSpan.FromSeconds(30), "the feed's deleted entries");

    [Fact]
    public async Task A_deleted_series_leaves_every_read_path_and_the_other_series_stays()
    {
        var client = await Client("delete-series");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 2);
        var (gone, kept) = (study.Instances[0], study.Instances[2]);
        var countBefore = await UploadedStudy.CountAsync(client);

        await DeleteOkAsync(client, "series", Params(study.PatientId, study.Study, gone.Series));

        Assert.All(await study.ReadPathsAsync(client, gone), p => Assert.False(p.Value, p.Key + " after delete"));
        Assert.All(await study.ReadPathsAsync(client, study.Instances[1]), p => Assert.False(p.Value, p.Key + " after delete"));
        Assert.All(await study.ReadPathsAsync(client, kept), p => Assert.True(p.Value, p.Key + " of the other series"));
        Assert.All(await study.StudyPathsAsync(client), p => Assert.True(p.Value, p.Key + " of the study"));
        Assert.Equal(countBefore, await UploadedStudy.CountAsync(client));
        var (_, qido) = await client.QidoAsync($"/dicomweb/studies?StudyInstanceUID={study.Study}");
        Assert.Equal("2", Assert.Single(qido.EnumerateArray()).GetProperty("00201208").GetProperty("Value")[0].GetRawText());

        // The study-events feed: one "Deleted" entry per instance that left, with who, how and why.
        var entries = await FeedAsync("delete-series", study.Study, 2);
        Assert.Equal(new[] { study.Instances[0].Sop, study.Instances[1].Sop }.Order(), entries.Select(e => e.SopInstanceUid).Order());
        Assert.All(entries, e =>
        {
            Assert.Equal("archive-api", e.Via);
            Assert.Equal("document d series/delete", e.Reason);
            Assert.Equal("delete", e.ChangeFeedAction);
        });

        // Deleted already: the documented not found.
        var again = await client.GetAsync("/api/v1/series/delete/" + Query(Params(study.PatientId, study.Study, gone.Series)));
        await AssertErrorAsync(again, 404, "object_not_found", "series_not_found");
    }

    [Fact]
    public async Task A_deleted_study_leaves_the_count_and_every_read_path()
    {
        var client = await Client("delete-study");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 1);
        var countBefore = await UploadedStudy.CountAsync(client);

        await DeleteOkAsync(client, "study", Params(study.PatientId, study.Study));

        Assert.Equal(countBefore - 1, await UploadedStudy.CountAsync(client));
        Assert.All(await study.StudyPathsAsync(client), p => Assert.False(p.Value, p.Key + " after delete"));
        foreach (var instance in study.Instances)
        {
            Assert.All(await study.ReadPathsAsync(client, instance), p => Assert.False(p.Value, p.Key + " after delete"));
        }

        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/get/" + Query(Params(study.PatientId))), 404, "object_not_found", "patient_not_found");
        var before = await EventLog.SettledCountAsync(fixture.ConnectionString);
        await AssertErrorAsync(await client.GetAsync("/api/v1/study/delete/" + Query(Params(study.PatientId, study.Study))), 404, "object_not_found", "study_not_found");
        Assert.Equal(before, await EventLog.CountAsync(fixture.ConnectionString));
    }

    [Fact]
    public async Task A_deleted_patient_takes_all_its_studies_in_that_archive()
    {
        var client = await Client("delete-patient");
        var first = await UploadedStudy.UploadAsync(client, series: 1, perSeries: 1);
        var second = Create(first.PatientId);
        await client.UploadOkAsync(second.Bytes, UploadedStudy.Project, UploadedStudy.Archive);
        Assert.Equal(2, (await client.GetOkAsync("/api/v1/patient/studies/list/" + Query(Params(first.PatientId)))).GetArrayLength());

        await DeleteOkAsync(client, "patient", Params(first.PatientId));

        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/get/" + Query(Params(first.PatientId))), 404, "object_not_found", "patient_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/studies/list/" + Query(Params(first.PatientId))), 404, "object_not_found", "patient_not_found");
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync($"/dicomweb/studies?StudyInstanceUID={first.Study}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync($"/dicomweb/studies?StudyInstanceUID={second.Study}")).StatusCode);
        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/delete/" + Query(Params(first.PatientId))), 404, "object_not_found", "patient_not_found");
    }

    [Fact]
    public async Task Unknown_objects_wrong_archive_wrong_patient_missing_parameters_and_methods_answer_the_documents_errors_and_change_nothing()
    {
        var client = await Client("delete-errors");
        var study = await UploadedStudy.UploadAsync(client, series: 1, perSeries: 1);
        var series = study.Instances[0].Series;
        var stranger = await Client("delete-errors-other");
        var reader = await Client("delete-errors", Scopes.Archive.GetStudy, Scopes.Archive.GetSeries, Scopes.Archive.GetPatient);
        var before = await EventLog.SettledCountAsync(fixture.ConnectionString);

        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/delete/" + Query(Params("P-UNKNOWN"))), 404, "object_not_found", "patient_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/study/delete/" + Query(Params(study.PatientId, "1.2.3.4.5"))), 404, "object_not_found", "study_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/series/delete/" + Query(Params(study.PatientId, study.Study, "1.2.3.4.5"))), 404, "object_not_found", "series_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/series/delete/" + Query(Params(study.PatientId, "1.2.3.4.5", series))), 404, "object_not_found", "series_not_found");

        // Scoped by Project/Archive and by the patient the study is filed under.
        await AssertErrorAsync(await client.GetAsync("/api/v1/patient/delete/" + Query(Params(study.PatientId, archive: "other"))), 404, "object_not_found", "patient_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/study/delete/" + Query(Params(study.PatientId, study.Study, project: "other"))), 404, "object_not_found", "study_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/series/delete/" + Query(Params(study.PatientId, study.Study, series, archive: "other"))), 404, "object_not_found", "series_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/study/delete/" + Query(Params("P-OTHER", study.Study))), 404, "object_not_found", "study_not_found");

        // Missing parameters; another method; another tenant; no permission; no credentials.
        await AssertErrorAsync(await client.GetAsync("/api/v1/study/delete/" + Query(("Project", "proj"), ("PatientID", study.PatientId))), 400, "missing_parameter", null);
        await AssertErrorAsync(await client.PostAsync("/api/v1/series/delete/" + Query(Params(study.PatientId, study.Study, series)), null), 405, "method_not_allowed", null);
        await AssertErrorAsync(await client.DeleteAsync("/api/v1/patient/delete/" + Query(Params(study.PatientId))), 405, "method_not_allowed", null);
        await AssertErrorAsync(await stranger.GetAsync("/api/v1/study/delete/" + Query(Params(study.PatientId, study.Study))), 404, "object_not_found", "study_not_found");
        await AssertErrorAsync(await reader.GetAsync("/api/v1/study/delete/" + Query(Params(study.PatientId, study.Study))), 403, "api_call_not_allowed", null);
        await AssertErrorAsync(await reader.GetAsync("/api/v1/series/delete/" + Query(Params(study.PatientId, study.Study, series))), 403, "api_call_not_allowed", null);
        await AssertErrorAsync(await reader.GetAsync("/api/v1/patient/delete/" + Query(Params(study.PatientId))), 403, "api_call_not_allowed", null);
        await AssertErrorAsync(await fixture.App.CreateClient().GetAsync("/api/v1/patient/delete/" + Query(Params(study.PatientId))), 401, "authentication_failed", null);

        Assert.Equal(before, await EventLog.CountAsync(fixture.ConnectionString));
        Assert.All(await study.StudyPathsAsync(client), p => Assert.True(p.Value, p.Key + " after refused deletes"));
    }

    [Fact]
    public async Task A_document_d_user_with_the_delete_permission_deletes_with_X_USERNAME_and_X_PASSWORD()
    {
        var user = await fixture.App.RegisterUserAsync("delete-user", $"deleter-{Guid.NewGuid():N}",
            Scopes.Archive.UploadProject, Scopes.Archive.InstanceUpload, Scopes.Archive.GetStudy, Scopes.Archive.DeleteStudy);
        var client = fixture.App.CreateClient();
        client.DefaultRequestHeaders.Add("X-USERNAME", user.Username);
        client.DefaultRequestHeaders.Add("X-PASSWORD", user.Password);
        var instance = Create("P-DEL-USER");
        await client.UploadOkAsync(instance.Bytes, "proj", "arch");

        await DeleteOkAsync(client, "study", Params("P-DEL-USER", instance.Study));

        await AssertErrorAsync(await client.GetAsync("/api/v1/study/get/" + Query(Params("P-DEL-USER", instance.Study))), 404, "object_not_found", "study_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/series/delete/" + Query(Params("P-DEL-USER", instance.Study, instance.Series))), 403, "api_call_not_allowed", null);
    }

    [Fact]
    public async Task An_instance_filed_in_two_archives_stays_in_the_other_until_deleted_from_both()
    {
        var client = await Client("delete-two-archives");
        var instance = Create("P-TWO");
        await client.UploadOkAsync(instance.Bytes, "proj", "arch-a");
        await client.UploadOkAsync(instance.Bytes, "proj", "arch-b");

        await DeleteOkAsync(client, "study", Params("P-TWO", instance.Study, archive: "arch-a"));

        await AssertErrorAsync(await client.GetAsync("/api/v1/study/get/" + Query(Params("P-TWO", instance.Study, archive: "arch-a"))), 404, "object_not_found", "study_not_found");
        Assert.Equal(instance.Study, (await client.GetOkAsync("/api/v1/study/get/" + Query(Params("P-TWO", instance.Study, archive: "arch-b"))))
            .GetProperty("StudyInstanceUID").GetString());
        var wado = await client.GetAsync($"/dicomweb/studies/{instance.Study}/series/{instance.Series}/instances/{instance.Sop}");
        Assert.Equal(instance.Bytes, Assert.Single(await CorpusRoundTripTests.PartsAsync(wado)));

        // Its study-level feed entry says it only left arch-a.
        var entry = Assert.Single(await FeedAsync("delete-two-archives", instance.Study, 1));
        Assert.Null(entry.SopInstanceUid);
        Assert.Equal("arch-a", entry.Details["archive"]);

        await DeleteOkAsync(client, "series", Params("P-TWO", instance.Study, instance.Series, archive: "arch-b"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/dicomweb/studies/{instance.Study}/series/{instance.Series}/instances/{instance.Sop}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync($"/dicomweb/studies?StudyInstanceUID={instance.Study}")).StatusCode);
    }

    [Fact]
    public async Task Within_the_window_our_restore_brings_everything_back_byte_for_byte()
    {
        var client = await Client("delete-restore");
        var study = await UploadedStudy.UploadAsync(client, series: 2, perSeries: 1);
        var countBefore = await UploadedStudy.CountAsync(client);
        await DeleteOkAsync(client, "study", Params(study.PatientId, study.Study));
        Assert.Equal(countBefore - 1, await UploadedStudy.CountAsync(client));

        // Another archive has nothing of it to restore.
        await AssertErrorAsync(await RestoreAsync(client, study.Study, archive: "other"), 404, "object_not_found", "deleted_study_not_found");

        var restored = await RestoreAsync(client, study.Study);
        Assert.Equal("""{"status":"Ok","restored_instances":2,"refiled_instances":2}""", await restored.Content.ReadAsStringAsync());
        Assert.Equal(countBefore, await UploadedStudy.CountAsync(client));
        Assert.All(await study.StudyPathsAsync(client), p => Assert.True(p.Value, p.Key + " after restore"));
        foreach (var instance in study.Instances)
        {
            Assert.All(await study.ReadPathsAsync(client, instance), p => Assert.True(p.Value, p.Key + " after restore"));
            var wado = await client.GetAsync($"/dicomweb/studies/{instance.Study}/series/{instance.Series}/instances/{instance.Sop}");
            Assert.Equal(instance.Bytes, Assert.Single(await CorpusRoundTripTests.PartsAsync(wado)));
        }

        // Restored already: nothing more to restore; and it can be deleted again.
        await AssertErrorAsync(await RestoreAsync(client, study.Study), 404, "object_not_found", "deleted_study_not_found");
        await AssertErrorAsync(await client.GetAsync("/api/v1/study/restore/" + Query(("Project", "proj"), ("Archive", "arch"), ("StudyInstanceUID", study.Study))),
            405, "method_not_allowed", null);
        await DeleteOkAsync(client, "series", Params(study.PatientId, study.Study, study.Instances[0].Series));
    }

    [Fact]
    public async Task Part_of_a_series_kept_by_another_archive_shrinks_the_series_and_read_models_equal_a_rebuild()
    {
        var client = await Client("delete-rebuild");
        var kept = Create("P-REBUILD");
        var gone = Create("P-REBUILD", kept.Study, kept.Series);
        var other = Create("P-REBUILD", kept.Study);
        foreach (var instance in new[] { kept, gone, other })
        {
            await client.UploadOkAsync(instance.Bytes, "proj", "arch");
        }

        await client.UploadOkAsync(kept.Bytes, "proj", "arch-b");
        async Task<string> SeriesCountAsync()
        {
            var (_, series) = await client.QidoAsync($"/dicomweb/studies/{kept.Study}/series?SeriesInstanceUID={kept.Series}&includefield=00201209");
            return Assert.Single(series.EnumerateArray()).GetProperty("00201209").GetProperty("Value")[0].GetRawText();
        }

        Assert.Equal("2", await SeriesCountAsync());

        await DeleteOkAsync(client, "series", Params("P-REBUILD", kept.Study, kept.Series, "proj", "arch"));
        Assert.Equal("1", await SeriesCountAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/dicomweb/studies/{kept.Study}/series/{kept.Series}/instances/{gone.Sop}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/dicomweb/studies/{kept.Study}/series/{kept.Series}/instances/{kept.Sop}")).StatusCode);

        var restored = await RestoreAsync(client, kept.Study, "proj", "arch");
        Assert.Equal("""{"status":"Ok","restored_instances":1,"refiled_instances":2}""", await restored.Content.ReadAsStringAsync());
        Assert.Equal("2", await SeriesCountAsync());
        await DeleteOkAsync(client, "series", Params("P-REBUILD", kept.Study, other.Series, "proj", "arch"));

        await ReadModelTables.AssertStudyReadModelsEqualARebuildAsync(fixture.App.Store, fixture.ConnectionString);
    }

    [Fact]
    public async Task Concurrent_deletes_of_one_study_have_one_winner()
    {
        var client = await Client("delete-race");
        var study = await UploadedStudy.UploadAsync(client, series: 1, perSeries: 2);
        var url = "/api/v1/study/delete/" + Query(Params(study.PatientId, study.Study));
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => client.GetAsync(url)));
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.NotFound));
        await using var session = fixture.App.Store.QuerySession("delete-race");
        Assert.Equal(1, await session.Events.QueryAllRawEvents().Where(e => e.EventTypeName == "study_content_deleted").CountAsync());
    }

    [Fact]
    public async Task A_delete_racing_a_store_into_the_same_study_leaves_every_instance_wholly_there_or_wholly_gone()
    {
        var client = await Client("delete-store-race");
        var study = await UploadedStudy.UploadAsync(client, series: 1, perSeries: 1);
        var late = Enumerable.Range(0, 4).Select(_ => Create(study.PatientId, study.Study, study.Instances[0].Series)).ToList();

        var delete = client.GetAsync("/api/v1/study/delete/" + Query(Params(study.PatientId, study.Study)));
        var stores = late.Select(i => client.PostAsync("/api/v1/instance/upload/", Form(i.Bytes, UploadedStudy.Project, UploadedStudy.Archive))).ToList();
        await Task.WhenAll([delete, .. stores]);
        Assert.Equal(HttpStatusCode.OK, (await delete).StatusCode);
        Assert.All(stores, s => Assert.Equal(HttpStatusCode.OK, s.Result.StatusCode));

        // The first instance is gone; each late one is on every instance path or on none (stored after the
        // delete, or deleted with the study). Series-level paths show the series while any late instance is in it.
        async Task<Dictionary<string, bool>> InstancePathsAsync(Instance instance) =>
            (await study.ReadPathsAsync(client, instance)).Where(p => !p.Key.Contains("series", StringComparison.Ordinal)).ToDictionary();
        Assert.All(await InstancePathsAsync(study.Instances[0]), p => Assert.False(p.Value, p.Key));
        var survivors = 0;
        foreach (var instance in late)
        {
            var paths = await InstancePathsAsync(instance);
            Assert.True(paths.Values.Distinct().Count() == 1, string.Join(", ", paths.Select(p => $"{p.Key}={p.Value}")));
            survivors += paths.Values.First() ? 1 : 0;
        }

        var (_, qido) = await client.QidoAsync($"/dicomweb/studies/{study.Study}/series/{study.Instances[0].Series}/instances");
        Assert.Equal(survivors, qido.ValueKind == JsonValueKind.Array ? qido.GetArrayLength() : 0);
    }
}

/// <summary>A one-hour restore window on a clock the test moves.</summary>
public sealed class RestoreWindowFixture : ServiceFixture
{
    public TestClock Clock { get; } = new();

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Deletion:RestoreWindow"] = "01:00:00" };

    protected override Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? Services => Clock.Register;
}

/// <summary>After the restore window, the purge releases the blobs and the sweeper removes those no live event needs.</summary>
public sealed class DeletePurgeTests(RestoreWindowFixture fixture) : IClassFixture<RestoreWindowFixture>
{
    private static readonly TimeSpan Grace = TimeSpan.FromHours(24);

    private string BlobFile(string sha) => Path.Combine(fixture.App.BlobRoot, "objects", sha[..2], sha[2..4], sha);

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private Task<int> SweepAsync() => DeleteSweeps.SweepAsync(fixture.App, Grace);

    [Fact]
    public async Task After_the_window_the_blob_is_removed_from_disk_unless_another_live_instance_holds_the_same_bytes()
    {
        var client = await fixture.App.ClientForTenantAsync("purge-a");
        var alone = Create("P-PURGE");
        var shared = Create("P-PURGE", alone.Study);
        await client.UploadOkAsync(alone.Bytes, "proj", "arch");
        await client.UploadOkAsync(shared.Bytes, "proj", "arch");
        var other = await fixture.App.ClientForTenantAsync("purge-b");
        await other.UploadOkAsync(shared.Bytes, "proj", "arch"); // the same file, held by another tenant
        Assert.True(File.Exists(BlobFile(Sha(alone.Bytes))));
        Assert.True(File.Exists(BlobFile(Sha(shared.Bytes))));

        await ArchiveDeleteTests.DeleteOkAsync(client, "study", ArchiveDeleteTests.Params("P-PURGE", alone.Study, project: "proj", archive: "arch"));

        // Within the window the sweeper leaves the blobs: the delete can still be restored.
        Assert.Equal(0, await SweepAsync());
        Assert.True(File.Exists(BlobFile(Sha(alone.Bytes))));

        fixture.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await ScheduledMessages.MakeDueAsync(fixture.ConnectionString, "PurgeDeletedContent"));
        await Eventually.Until(async () =>
            {
                await using var session = fixture.App.Store.QuerySession("purge-a");
                return await session.Events.QueryAllRawEvents().Where(e => e.EventTypeName == "deleted_content_purged").CountAsync();
            }, n => n == 1, TimeSpan.FromSeconds(60), "the purge");

        // Past the window: no restore.
        await AssertErrorAsync(await ArchiveDeleteTests.RestoreAsync(client, alone.Study, "proj", "arch"), 404, "object_not_found", "deleted_study_not_found");

        Assert.Equal(1, await SweepAsync());
        Assert.False(File.Exists(BlobFile(Sha(alone.Bytes))));
        Assert.True(File.Exists(BlobFile(Sha(shared.Bytes))));
        var wado = await other.GetAsync($"/dicomweb/studies/{shared.Study}/series/{shared.Series}/instances/{shared.Sop}");
        Assert.Equal(shared.Bytes, Assert.Single(await CorpusRoundTripTests.PartsAsync(wado)));

        // Stored again after the purge: a live event needs the bytes again.
        await client.UploadOkAsync(alone.Bytes, "proj", "arch");
        Assert.True(File.Exists(BlobFile(Sha(alone.Bytes))));
        Assert.Equal(0, await SweepAsync());
        var back = await client.GetAsync($"/dicomweb/studies/{alone.Study}/series/{alone.Series}/instances/{alone.Sop}");
        Assert.Equal(alone.Bytes, Assert.Single(await CorpusRoundTripTests.PartsAsync(back)));
    }

    [Fact]
    public async Task Restored_within_the_window_the_purge_is_a_no_op_and_the_blob_stays()
    {
        var client = await fixture.App.ClientForTenantAsync("purge-restore");
        var instance = Create("P-KEEP");
        await client.UploadOkAsync(instance.Bytes, "proj", "arch");
        await ArchiveDeleteTests.DeleteOkAsync(client, "series", ArchiveDeleteTests.Params("P-KEEP", instance.Study, instance.Series, "proj", "arch"));
        Assert.Equal(HttpStatusCode.OK, (await ArchiveDeleteTests.RestoreAsync(client, instance.Study, "proj", "arch")).StatusCode);

        fixture.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        await ScheduledMessages.MakeDueAsync(fixture.ConnectionString, "PurgeDeletedContent");
        await Eventually.Until(() => ScheduledMessages.MakeDueAsync(fixture.ConnectionString, "PurgeDeletedContent"), n => n == 0,
            TimeSpan.FromSeconds(60), "the purge message to be handled");
        await EventLog.SettledCountAsync(fixture.ConnectionString);

        await DeleteSweeps.SweepAsync(fixture.App, Grace);
        Assert.True(File.Exists(BlobFile(Sha(instance.Bytes))));
        var wado = await client.GetAsync($"/dicomweb/studies/{instance.Study}/series/{instance.Series}/instances/{instance.Sop}");
        Assert.Equal(instance.Bytes, Assert.Single(await CorpusRoundTripTests.PartsAsync(wado)));
        await using var session = fixture.App.Store.QuerySession("purge-restore");
        Assert.Equal(0, await session.Events.QueryAllRawEvents().Where(e => e.EventTypeName == "deleted_content_purged").CountAsync());
    }
}

/// <summary>A zero restore window: purged at once, no restore.</summary>
public sealed class NoRestoreWindowFixture : ServiceFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Deletion:RestoreWindow"] = "00:00:00" };
}

public sealed class ImmediatePurgeTests(NoRestoreWindowFixture fixture) : IClassFixture<NoRestoreWindowFixture>
{
    [Fact]
    public async Task With_a_zero_window_the_delete_is_purged_at_once_and_cannot_be_restored()
    {
        var client = await fixture.App.ClientForTenantAsync("purge-now");
        var instance = Create("P-NOW");
        await client.UploadOkAsync(instance.Bytes, "proj", "arch");
        await ArchiveDeleteTests.DeleteOkAsync(client, "study", ArchiveDeleteTests.Params("P-NOW", instance.Study, project: "proj", archive: "arch"));
        await AssertErrorAsync(await ArchiveDeleteTests.RestoreAsync(client, instance.Study, "proj", "arch"), 404, "object_not_found", "deleted_study_not_found");

        await Eventually.Until(async () =>
            {
                await using var session = fixture.App.Store.QuerySession("purge-now");
                return await session.Events.QueryAllRawEvents().Where(e => e.EventTypeName == "deleted_content_purged").CountAsync();
            }, n => n == 1, TimeSpan.FromSeconds(60), "the purge");
        var sha = Convert.ToHexStringLower(SHA256.HashData(instance.Bytes));
        Assert.Equal(1, await DeleteSweeps.SweepAsync(fixture.App, TimeSpan.FromHours(24)));
        Assert.False(File.Exists(Path.Combine(fixture.App.BlobRoot, "objects", sha[..2], sha[2..4], sha)));
    }
}

internal static class DeleteSweeps
{
    /// <summary>One orphan sweep on the service's store and database, its clock two days ahead (past the grace period).</summary>
    public static Task<int> SweepAsync(AppFactory app, TimeSpan grace) =>
        new Web.Infrastructure.Blobs.OrphanBlobSweeper(
            Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Application.Blobs.IBlobStore>(app.Services),
            app.Store,
            Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Npgsql.NpgsqlDataSource>(app.Services),
            Microsoft.Extensions.Options.Options.Create(new Web.Infrastructure.Blobs.BlobStoreOptions { OrphanGracePeriod = grace }),
            new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow + grace + TimeSpan.FromDays(1)),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Web.Infrastructure.Blobs.OrphanBlobSweeper>.Instance).SweepOnceAsync(CancellationToken.None);
}
