using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Domain.Tenants;
using EventSourced.Projections.Archive;
using EventSourced.Projections.Qido;
using EventSourced.Projections.Studies;
using EventSourced.Web.Tests.Callbacks;
using EventSourced.Web.Tests.StudyFeed;
using EventSourced.Web.Tests.Support;
using Marten;
using static EventSourced.Web.Tests.Patients.PatientSupport;
using static EventSourced.Web.Tests.Studies.SeriesMoveSupport;

namespace EventSourced.Web.Tests.Studies;

/// <summary>
/// Document e <c>studies/reconcile</c> and <c>studies/swap</c> through HTTP on PostgreSQL: every documented
/// status, the read paths after each (bytes read by pydicom), the undo giving back exactly what was shown,
/// the images-available signal (new-exam callback delivered, study-events feed), concurrency.
/// </summary>
[Collection(StudyFeedCollection.Name)]
public sealed class SeriesMoveApiTests(SeriesMoveApiTests.Fixture fixture) : IClassFixture<SeriesMoveApiTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        private readonly TestDatabase database = new();

        public CallbackReceiver Receiver { get; private set; } = null!;
        public AppFactory App { get; private set; } = null!;
        public string ConnectionString => database.ConnectionString;

        public async Task InitializeAsync()
        {
            await database.InitializeAsync();
            Receiver = await CallbackReceiver.StartAsync();
            App = new AppFactory(database.ConnectionString, new Dictionary<string, string?>
            {
                ["CALLBACK_URLS"] = Receiver.Url("/images"),
                ["Callbacks:SigningSecret"] = NewExamCallbackTests.Secret,
            });
            App.CreateClient().Dispose();
        }

        public async Task DisposeAsync()
        {
            await App.DisposeAsync();
            await Receiver.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    [Fact]
    public async Task Reconcile_into_a_new_study_moves_every_series_signals_images_available_and_undo_gives_back_the_exact_view()
    {
        var client = await fixture.App.ClientForTenantAsync("reconcile-new");
        var source = await StowAsync(client, "RN-A", "ALPHA^ANN", "ACC-S", "Old description", series: 2, perSeries: 2);
        var target = EventSourced.Dicom.DicomUid.Generate();
        var before = await SnapshotAsync(client, source.Study);
        var bytesBefore = await WadoFilesAsync(client, source.Study);

        var answer = await OkJsonAsync(await PostAsync(client, "studies/reconcile", $$"""
            {"sourceStudyInstanceUID":"{{source.Study}}","targetStudyInstanceUID":"{{target}}","patientID":"RN-NEW","patientName":"PATIENT^NEW",
             "patientBirthDate":"19010101","patientSex":"M","accessionNumber":"AN201191249","studyDescription":"Reconciled study","studyDate":"20211229","userName":"operator"}
            """));
        var correction = answer.GetProperty("correctionId").GetString();

        // The target exists with the body's attributes and patient (registered: RN-NEW was unknown); the source is on no read path.
        var expected = Expect("RN-NEW", "PATIENT^NEW", "AN201191249", (source.Series[0], source.Sops[..2]), (source.Series[1], source.Sops[2..]));
        await AssertShowsAsync(client, target, expected, "RN-NEW");
        await AssertGoneAsync(client, source.Study, "RN-A");
        Assert.Equal([target], await QidoStudiesOfAsync(client, "RN-NEW"));
        Assert.Empty(await QidoStudiesOfAsync(client, "RN-A"));
        var files = Pydicom(await WadoFilesAsync(client, target));
        Assert.All(files, f => Assert.Equal("Reconciled study", f["StudyDescription"]));
        var study = Assert.Single(JsonDocument.Parse(await client.GetStringAsync($"/dicomweb/studies?StudyInstanceUID={target}&includefield=all")).RootElement.EnumerateArray());
        Assert.Equal("20211229", Qido.QidoSupport.Value(study, "00080020"));
        Assert.Equal("19010101", Qido.QidoSupport.Value(study, "00100030"));

        // Frames under the target's path (not the source's), and document d's series zip, coerced like WADO-RS.
        var framePath = $"/series/{source.Series[0]}/instances/{source.Sops[0]}/frames/1";
        using (var frames = new HttpRequestMessage(HttpMethod.Get, $"/dicomweb/studies/{target}{framePath}"))
        {
            frames.Headers.TryAddWithoutValidation("Accept", "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*");
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(frames)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/dicomweb/studies/{source.Study}{framePath}")).StatusCode);
        var zip = await client.GetAsync("/api/v1/dicom/get/" + Archive.ArchiveSupport.Query(
            ("Project", "default"), ("Archive", "default"), ("PatientID", "RN-NEW"), ("StudyInstanceUID", target), ("SeriesInstanceUID", source.Series[1])));
        Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
        var zipped = Pydicom([.. Archive.ArchiveSupport.Entries(await zip.Content.ReadAsByteArrayAsync()).Values]);
        Assert.Equal(source.Sops[2..].Order(), zipped.Select(f => f["SOPInstanceUID"]!).Order());
        Assert.All(zipped, f => Assert.Equal((target, "RN-NEW", "AN201191249"), (f["StudyInstanceUID"], f["PatientID"], f["AccessionNumber"])));

        // Images available: the new-exam callback's message was recorded and delivered for the target …
        var delivery = await Eventually.Until(
            () => Task.FromResult(fixture.Receiver.Deliveries.FirstOrDefault(d => JsonDocument.Parse(d.Body).RootElement.GetProperty("StudyInstanceUID").GetString() == target)),
            d => d is not null, TimeSpan.FromSeconds(30), "the images-available callback");
        var body = JsonDocument.Parse(delivery!.Body).RootElement;
        Assert.Equal(("COMPLETED", "RN-NEW", "AN201191249", "PATIENT^NEW", 2, 4), (
            body.GetProperty("EventType").GetString(), body.GetProperty("PatientID").GetString(), body.GetProperty("AccessionNumber").GetString(),
            body.GetProperty("PatientName").GetString(), body.GetProperty("NumberOfStudyRelatedSeries").GetInt32(), body.GetProperty("NumberOfStudyRelatedInstances").GetInt32()));
        Assert.True(NewExamCallbackTests.SignatureIsValid(delivery, NewExamCallbackTests.Secret));
        var admin = await fixture.App.ClientForTenantAsync("reconcile-new", Scopes.Admin);
        var recorded = await (await admin.GetAsync($"/admin/callbacks?studyUID={target}")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Single(recorded.EnumerateArray());

        // … and the study-events feed has the reconcile for the target, each instance joining it and leaving the source.
        var entries = await FeedUntilAsync(client, all => all.Count(e => Kind(e) == "InstanceRefiledIn") >= 4);
        var reconciled = Assert.Single(entries, e => Kind(e) == "Reconciled");
        Assert.Equal(target, reconciled.GetProperty("studyInstanceUid").GetString());
        Assert.Equal(source.Study, reconciled.GetProperty("details").GetProperty("fromStudyInstanceUid").GetString());
        Assert.Equal(source.Sops.Order(), entries.Where(e => Kind(e) == "InstanceRefiledIn").Select(e => e.GetProperty("sopInstanceUid").GetString()!).Order());
        Assert.Equal(source.Sops.Order(), entries.Where(e => Kind(e) == "InstanceRefiledOut").Select(e => e.GetProperty("sopInstanceUid").GetString()!).Order());

        // Undo: the source shows exactly what it showed, byte for byte; the created target is on no read path and leaves its patient.
        await OkJsonAsync(await PostAsync(client, $"corrections/{correction}/undo", """{"userName":"operator"}"""));
        Assert.Equal(before, await SnapshotAsync(client, source.Study));
        Assert.Equal(bytesBefore.Select(Convert.ToBase64String).Order(), (await WadoFilesAsync(client, source.Study)).Select(Convert.ToBase64String).Order());
        await AssertShowsAsync(client, source.Study, Expect("RN-A", "ALPHA^ANN", "ACC-S", (source.Series[0], source.Sops[..2]), (source.Series[1], source.Sops[2..])), "RN-A");
        await AssertGoneAsync(client, target, "RN-NEW");
        Assert.Empty(await QidoStudiesOfAsync(client, "RN-NEW"));
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(client, $"corrections/{correction}/undo", "{}")).StatusCode);
    }

    [Fact]
    public async Task Reconcile_into_an_existing_study_keeps_its_attributes_and_refuses_another_patient_or_an_unknown_source()
    {
        var client = await fixture.App.ClientForTenantAsync("reconcile-existing");
        var source = await StowAsync(client, "RE-A", "ALPHA^ANN", "ACC-S", "Source", perSeries: 2);
        var target = await StowAsync(client, "RE-A", "ALPHA^ANN", "ACC-T", "Target");
        var other = await StowAsync(client, "RE-B", "BETA^BOB", "ACC-O", "Other");
        var events = await EventLog.SettledCountAsync(fixture.ConnectionString);

        // 409: the target exists with another PatientID; 404: the source is unknown. Nothing is written.
        var conflict = await PostAsync(client, "studies/reconcile",
            $$"""{"sourceStudyInstanceUID":"{{source.Study}}","targetStudyInstanceUID":"{{other.Study}}","patientID":"RE-A","userName":"u"}""");
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal("application/problem+json", conflict.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(client, "studies/reconcile",
            $$"""{"sourceStudyInstanceUID":"1.2.3.999","targetStudyInstanceUID":"{{target.Study}}","patientID":"RE-A","userName":"u"}""")).StatusCode);
        Assert.Equal(events, await EventLog.CountAsync(fixture.ConnectionString));

        // 200: the target keeps its accession number and description (the body's are for a new target only).
        await OkJsonAsync(await PostAsync(client, "studies/reconcile",
            $$"""{"sourceStudyInstanceUID":"{{source.Study}}","targetStudyInstanceUID":"{{target.Study}}","patientID":"RE-A","accessionNumber":"NOT-USED","studyDescription":"Not used","userName":"u"}"""));
        await AssertShowsAsync(client, target.Study, Expect("RE-A", "ALPHA^ANN", "ACC-T", (target.Series[0], target.Sops), (source.Series[0], source.Sops)), "RE-A");
        Assert.All(Pydicom(await WadoFilesAsync(client, target.Study)), f => Assert.Equal("Target", f["StudyDescription"]));
        await AssertGoneAsync(client, source.Study, "RE-A");

        // The emptied source is not available any more: 404.
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(client, "studies/reconcile",
            $$"""{"sourceStudyInstanceUID":"{{source.Study}}","targetStudyInstanceUID":"{{target.Study}}","patientID":"RE-A","userName":"u"}""")).StatusCode);
    }

    [Fact]
    public async Task An_instance_received_later_for_a_moved_series_is_filed_in_the_study_its_header_names()
    {
        var client = await fixture.App.ClientForTenantAsync("reconcile-late");
        var source = await StowAsync(client, "RL-A", "ALPHA^ANN", "ACC-S", "Source");
        var target = await StowAsync(client, "RL-A", "ALPHA^ANN", "ACC-T", "Target");
        await OkJsonAsync(await PostAsync(client, "studies/reconcile",
            $$"""{"sourceStudyInstanceUID":"{{source.Study}}","targetStudyInstanceUID":"{{target.Study}}","patientID":"RL-A","userName":"u"}"""));

        var late = EventSourced.Dicom.DicomUid.Generate();
        var stow = await client.PostAsync("/dicomweb/studies", Multipart.Related(Instance(source.Study, source.Series[0], late, "RL-A", "ALPHA^ANN")));
        Assert.Equal(HttpStatusCode.OK, stow.StatusCode);
        // The source study shows again, with the late instance only; the target keeps what the reconcile gave it.
        var series = JsonDocument.Parse(await client.GetStringAsync($"/dicomweb/studies/{source.Study}/instances")).RootElement;
        Assert.Equal([late], series.EnumerateArray().Select(i => Qido.QidoSupport.Value(i, "00080018")));
        var targetSops = JsonDocument.Parse(await client.GetStringAsync($"/dicomweb/studies/{target.Study}/instances")).RootElement;
        Assert.Equal(target.Sops.Concat(source.Sops).Order(), targetSops.EnumerateArray().Select(i => Qido.QidoSupport.Value(i, "00080018")!).Order());
    }

    [Fact]
    public async Task Swap_exchanges_the_series_each_study_keeping_its_identity_and_undo_gives_back_the_exact_view()
    {
        var client = await fixture.App.ClientForTenantAsync("swap");
        var a = await StowAsync(client, "SW-A", "ALPHA^ANN", "ACC-A", "A", series: 2);
        var b = await StowAsync(client, "SW-B", "BETA^BOB", "ACC-B", "B", perSeries: 3);
        var beforeA = await SnapshotAsync(client, a.Study);
        var beforeB = await SnapshotAsync(client, b.Study);

        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(client, "studies/swap",
            $$"""{"sourceStudyInstanceUID":"{{a.Study}}","targetStudyInstanceUID":"1.2.3.998","userName":"u"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(client, "studies/swap",
            $$"""{"sourceStudyInstanceUID":"1.2.3.998","targetStudyInstanceUID":"{{b.Study}}","userName":"u"}""")).StatusCode);

        var swap = await OkJsonAsync(await PostAsync(client, "studies/swap",
            $$"""{"sourceStudyInstanceUID":"{{a.Study}}","targetStudyInstanceUID":"{{b.Study}}","userName":"u"}"""));
        await AssertShowsAsync(client, a.Study, Expect("SW-A", "ALPHA^ANN", "ACC-A", (b.Series[0], b.Sops)), "SW-A");
        await AssertShowsAsync(client, b.Study, Expect("SW-B", "BETA^BOB", "ACC-B", (a.Series[0], [a.Sops[0]]), (a.Series[1], [a.Sops[1]])), "SW-B");
        Assert.All(Pydicom(await WadoFilesAsync(client, b.Study)), f => Assert.Equal("B", f["StudyDescription"]));

        var entries = await FeedUntilAsync(client, all => all.Count(e => Kind(e) == "Swapped" && Study(e) is var s && (s == a.Study || s == b.Study)) == 2);
        Assert.Equal(new[] { a.Study, b.Study }.Order(), entries.Where(e => Kind(e) == "Swapped").Select(Study).Order());

        await OkJsonAsync(await PostAsync(client, $"corrections/{swap.GetProperty("correctionId").GetString()}/undo", "{}"));
        Assert.Equal(beforeA, await SnapshotAsync(client, a.Study));
        Assert.Equal(beforeB, await SnapshotAsync(client, b.Study));
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "studies/reconcile", "" },
        { "studies/reconcile", "not json" },
        { "studies/reconcile", "[]" },
        { "studies/reconcile", """{"targetStudyInstanceUID":"1.2.3","patientID":"P","userName":"u"}""" },
        { "studies/reconcile", """{"sourceStudyInstanceUID":"1.2.3","patientID":"P","userName":"u"}""" },
        { "studies/reconcile", """{"sourceStudyInstanceUID":"1.2.3","targetStudyInstanceUID":"1.2.4","userName":"u"}""" },
        { "studies/reconcile", """{"sourceStudyInstanceUID":"1.2.3","targetStudyInstanceUID":"1.2.4","patientID":"P"}""" },
        { "studies/reconcile", """{"sourceStudyInstanceUID":"1.2.3","targetStudyInstanceUID":"1.2.3","patientID":"P","userName":"u"}""" },
        { "studies/reconcile", """{"sourceStudyInstanceUID":"x y","targetStudyInstanceUID":"1.2.4","patientID":"P","userName":"u"}""" },
        { "studies/reconcile", """{"sourceStudyInstanceUID":1,"targetStudyInstanceUID":"1.2.4","patientID":"P","userName":"u"}""" },
        { "studies/reconcile", """{"sourceStudyInstanceUID":"1.2.3","targetStudyInstanceUID":"1.2.4","patientID":"P","userName":"u","studyDate":"2021-12-29"}""" },
        { "studies/reconcile", """{"sourceStudyInstanceUID":"1.2.3","targetStudyInstanceUID":"1.2.4","patientID":"P","userName":"u","patientSex":"X"}""" },
        { "studies/reconcile", """{"sourceStudyInstanceUID":"1.2.3","targetStudyInstanceUID":"1.2.4","patientID":"P","userName":"u","extra":"1"}""" },
        { "studies/swap", "" },
        { "studies/swap", "{" },
        { "studies/swap", """{"targetStudyInstanceUID":"1.2.3","userName":"u"}""" },
        { "studies/swap", """{"sourceStudyInstanceUID":"1.2.3","userName":"u"}""" },
        { "studies/swap", """{"sourceStudyInstanceUID":"1.2.3","targetStudyInstanceUID":"1.2.4"}""" },
        { "studies/swap", """{"sourceStudyInstanceUID":"1.2.3","targetStudyInstanceUID":"1.2.3","userName":"u"}""" },
        { "studies/swap", """{"sourceStudyInstanceUID":["1.2.3"],"targetStudyInstanceUID":"1.2.4","userName":"u"}""" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task An_invalid_body_is_400_problem_details_and_nothing_is_written(string route, string body)
    {
        var client = await fixture.App.ClientForTenantAsync("series-move-bad");
        var events = await EventLog.CountAsync(fixture.ConnectionString);
        var response = await PostAsync(client, route, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(events, await EventLog.CountAsync(fixture.ConnectionString));
    }

    [Fact]
    public async Task Concurrent_reconciles_and_swaps_of_the_same_studies_end_consistent_with_one_winner_and_a_rebuild_agrees()
    {
        var client = await fixture.App.ClientForTenantAsync("series-race");
        var source = await StowAsync(client, "SR-A", "ALPHA^ANN", "ACC-S", "S", series: 2);
        var x = await StowAsync(client, "SR-A", "ALPHA^ANN", "ACC-X", "X");
        var y = await StowAsync(client, "SR-A", "ALPHA^ANN", "ACC-Y", "Y");

        // Eight reconciles of one source into eight new targets: one moves the series, the others find the source emptied (404).
        var targets = Enumerable.Range(0, 8).Select(_ => EventSourced.Dicom.DicomUid.Generate()).ToArray();
        var responses = await Task.WhenAll(targets.Select(t => PostAsync(client, "studies/reconcile",
            $$"""{"sourceStudyInstanceUID":"{{source.Study}}","targetStudyInstanceUID":"{{t}}","patientID":"SR-A","userName":"u"}""")));
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.NotFound));
        var winner = targets[Array.FindIndex(responses, r => r.StatusCode == HttpStatusCode.OK)];
        await AssertShowsAsync(client, winner, Expect("SR-A", "ALPHA^ANN", null, (source.Series[0], [source.Sops[0]]), (source.Series[1], [source.Sops[1]])), "SR-A");
        foreach (var t in targets.Where(t => t != winner))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/dicomweb/studies/{t}/metadata")).StatusCode);
        }

        // Reconciles of x into y and of y into x at once (locks taken in one order: no deadlock): serialised, both
        // valid (the second moves everything back), so one study ends with every series and the other on no read path.
        var crossed = await Task.WhenAll(
            PostAsync(client, "studies/reconcile", $$"""{"sourceStudyInstanceUID":"{{x.Study}}","targetStudyInstanceUID":"{{y.Study}}","patientID":"SR-A","userName":"u"}"""),
            PostAsync(client, "studies/reconcile", $$"""{"sourceStudyInstanceUID":"{{y.Study}}","targetStudyInstanceUID":"{{x.Study}}","patientID":"SR-A","userName":"u"}"""));
        Assert.All(crossed, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var holders = new List<(string Study, string[] Series, string[] Sops)>();
        foreach (var candidate in new[] { x, y })
        {
            if ((await client.GetAsync($"/dicomweb/studies/{candidate.Study}/metadata")).StatusCode == HttpStatusCode.OK)
            {
                holders.Add(candidate);
            }
        }

        var survivor = Assert.Single(holders);
        var survivorSops = x.Sops.Concat(y.Sops).Order().ToArray();
        var swaps = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => PostAsync(client, "studies/swap",
            $$"""{"sourceStudyInstanceUID":"{{winner}}","targetStudyInstanceUID":"{{survivor.Study}}","userName":"u"}""")));
        Assert.All(swaps, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var winnerNow = JsonDocument.Parse(await client.GetStringAsync($"/dicomweb/studies/{winner}/instances")).RootElement;
        Assert.Equal(source.Sops.Order(), winnerNow.EnumerateArray().Select(i => Qido.QidoSupport.Value(i, "00080018")!).Order());
        var survivorNow = JsonDocument.Parse(await client.GetStringAsync($"/dicomweb/studies/{survivor.Study}/instances")).RootElement;
        Assert.Equal(survivorSops, survivorNow.EnumerateArray().Select(i => Qido.QidoSupport.Value(i, "00080018")!).Order());

        // No read model disagrees with the log: a rebuild reproduces them exactly.
        string[] tables = ["mt_doc_qidostudy", "mt_doc_qidoseries", "mt_doc_qidoinstance", "mt_doc_archivestudy", "mt_doc_archiveseries"];
        var live = await ReadModelTables.RowsAsync(fixture.ConnectionString, tables);
        await ReadModelTables.ClearAsync(fixture.ConnectionString, tables);
        using var daemon = await fixture.App.Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<QidoStudyProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<QidoSeriesProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<Projections.Studies.InstanceRecordsProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<ArchiveStudyProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        await daemon.RebuildProjectionAsync<ArchiveSeriesProjection>(TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Equal(live, await ReadModelTables.RowsAsync(fixture.ConnectionString, tables));
    }

    private static string? Kind(JsonElement e) => e.GetProperty("kind").GetString();

    private static string? Study(JsonElement e) => e.GetProperty("studyInstanceUid").GetString();

    private static Task<List<JsonElement>> FeedUntilAsync(HttpClient client, Func<List<JsonElement>, bool> done) =>
        LifecycleFeedTests.ReadUntilAsync(client, done);
}
