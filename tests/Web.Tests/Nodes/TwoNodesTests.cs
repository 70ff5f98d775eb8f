using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EventSourced.Web.Security;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Nodes;

/// <summary>
/// Two service processes on one PostgreSQL database and one blob folder behave as one service: what one
/// node writes the other reads at once, and every guard that keeps state (single-use URLs, viewer tokens,
/// the API-key cache, the sign-in throttle, the study feed's async projection) holds across them. Real
/// processes, real HTTP; docs/architecture.md, "Running at larger scale".
/// </summary>
[Collection(nameof(TwoNodesTests))]
public sealed class TwoNodesTests(NodePair nodes, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<NodePair>
{
    [Fact]
    public async Task A_STOW_on_one_node_is_found_and_retrieved_on_the_other_at_once()
    {
        using var one = nodes.Client(nodes.One);
        using var two = nodes.Client(nodes.Two);
        var (bytes, study, series, sop) = SyntheticInstances.Create();

        Assert.Equal(HttpStatusCode.OK, (await one.PostAsync("/dicomweb/studies", Multipart.Related(bytes))).StatusCode);

        // No waiting: the query tables are written in the STOW's own transaction, and the blob is in the shared folder.
        Assert.Equal([sop], await NodePair.InstancesAsync(two, study));
        var retrieved = await two.GetAsync($"/dicomweb/studies/{study}/series/{series}/instances/{sop}");
        Assert.Equal(HttpStatusCode.OK, retrieved.StatusCode);
        Assert.Equal(bytes, Assert.Single(await Ingestion.CorpusRoundTripTests.PartsAsync(retrieved)));

        // And the other way round.
        var second = SyntheticInstances.Create(study);
        Assert.Equal(HttpStatusCode.OK, (await two.PostAsync("/dicomweb/studies", Multipart.Related(second.Bytes))).StatusCode);
        Assert.Equal(new[] { sop, second.Sop }.Order(), (await NodePair.InstancesAsync(one, study)).Order());
    }

    [Fact]
    public async Task A_store_decides_on_what_the_other_node_stored_into_the_study_since_its_own_last_store()
    {
        using var one = nodes.Client(nodes.One);
        using var two = nodes.Client(nodes.Two);
        var study = EventSourced.Dicom.DicomUid.Generate();
        var series = EventSourced.Dicom.DicomUid.Generate();
        var (a, b) = (EventSourced.Dicom.DicomUid.Generate(), EventSourced.Dicom.DicomUid.Generate());
        byte[] Instance(string sop, string birthDate) => Patients.PatientSupport.Instance(study, series, sop, "PID-NODES-1", "NODES^ONE", birthDate: birthDate);

        // Node one keeps the study as its store left it; node two then stores B into it.
        Assert.Equal(HttpStatusCode.OK, (await one.PostAsync("/dicomweb/studies", Multipart.Related(Instance(a, "19800101")))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await two.PostAsync("/dicomweb/studies", Multipart.Related(Instance(b, "19800101")))).StatusCode);

        // B again on node one with other bytes, within the replace window: a replacement of B, which node one learns
        // of from the log (what it kept does not hold B: taken as current, B would be stored a second time).
        Assert.Equal(HttpStatusCode.OK, (await one.PostAsync("/dicomweb/studies", Multipart.Related(Instance(b, "19700101")))).StatusCode);
        var id = EventSourced.Domain.Studies.Study.StreamId(NodePair.Tenant, study);
        Assert.Equal(1, await nodes.ScalarAsync("select count(*) from eventsourced.mt_events where stream_id = @id and type = 'instance_replaced'", ("id", id)));
        Assert.Equal(3, await nodes.ScalarAsync("select count(*) from eventsourced.mt_events where stream_id = @id", ("id", id)));
    }

    [Fact]
    public async Task The_study_feed_projected_by_one_node_is_read_and_long_polled_on_both()
    {
        using var one = nodes.Client(nodes.One);
        using var two = nodes.Client(nodes.Two);
        var (bytes, study, _, _) = SyntheticInstances.Create();

        // A long poll on node two, opened before the STOW on node one: whichever node's daemon projects
        // the entry, the waiting request sees it well before its 30 s wait is over.
        var (_, before) = await two.GetJsonAsync("/o3-dpacs-wado/studyEvents?offsetId=0&limit=1000");
        var after = before.GetProperty("settledOffsetId").GetInt64();
        var clock = Stopwatch.StartNew();
        var poll = two.GetJsonAsync($"/o3-dpacs-wado/studyEvents?offsetId={after}&limit=1000&wait=30");
        Assert.Equal(HttpStatusCode.OK, (await one.PostAsync("/dicomweb/studies", Multipart.Related(bytes))).StatusCode);

        // The poll wakes for the first entry settled after `after`: an entry of an earlier test's STOW that the
        // daemons settle late wakes it too, so the poll is taken up again from where it left until ours is there.
        var seen = false;
        while (true)
        {
            var (status, page) = await poll;
            Assert.Equal(HttpStatusCode.OK, status);
            seen = page.GetProperty("events").EnumerateArray().Any(e => e.GetProperty("studyInstanceUid").GetString() == study);
            if (seen || clock.Elapsed >= TimeSpan.FromSeconds(25))
            {
                break;
            }

            poll = two.GetJsonAsync($"/o3-dpacs-wado/studyEvents?offsetId={page.GetProperty("settledOffsetId").GetInt64()}&limit=1000&wait=30");
        }

        Assert.True(seen, $"the study's entry was not seen by a long poll within {clock.Elapsed}");

        // Both nodes read the same feed: the projection ran once, not once per node.
        var onOne = await NodePair.FeedAsync(one, study);
        var onTwo = await NodePair.FeedAsync(two, study);
        Assert.NotEmpty(onOne);
        Assert.Equal(onOne.Select(e => e.GetProperty("offsetId").GetInt64()), onTwo.Select(e => e.GetProperty("offsetId").GetInt64()));
        Assert.Equal(onOne.Count, onOne.Select(e => e.GetProperty("offsetId").GetInt64()).Distinct().Count());
    }

    [Fact]
    public async Task A_presigned_URL_issued_on_one_node_is_used_once_on_the_other_and_refused_on_both_after()
    {
        using var one = nodes.Client(nodes.One);
        var issued = await one.GetFromJsonAsync<JsonElement>("/upload");
        var url = new Uri(issued.GetProperty("url").GetString()!).PathAndQuery;
        var first = SyntheticInstances.Create();
        var second = SyntheticInstances.Create(first.Study);

        using var anonymousTwo = NodePair.Anonymous(nodes.Two);
        using var anonymousOne = NodePair.Anonymous(nodes.One);
        Assert.Equal(HttpStatusCode.OK, (await anonymousTwo.PutAsync(url, Dicom(first.Bytes))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymousOne.PutAsync(url, Dicom(second.Bytes))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymousTwo.PutAsync(url, Dicom(second.Bytes))).StatusCode);

        Assert.Equal([first.Sop], await NodePair.InstancesAsync(one, first.Study));
    }

    [Fact]
    public async Task Concurrent_uses_of_one_presigned_URL_on_both_nodes_store_exactly_one_instance()
    {
        using var two = nodes.Client(nodes.Two);
        var issued = await two.GetFromJsonAsync<JsonElement>("/upload");
        var url = new Uri(issued.GetProperty("url").GetString()!).PathAndQuery;
        var study = SyntheticInstances.Create().Study;
        var bodies = Enumerable.Range(0, 6).Select(_ => SyntheticInstances.Create(study)).ToList();

        var answers = await Task.WhenAll(bodies.Select((b, i) =>
        {
            var http = NodePair.Anonymous(i % 2 == 0 ? nodes.One : nodes.Two);
            return http.PutAsync(url, Dicom(b.Bytes)).ContinueWith(t => { http.Dispose(); return t.Result.StatusCode; });
        }));

        Assert.Equal(1, answers.Count(s => s == HttpStatusCode.OK));
        Assert.All(answers.Where(s => s != HttpStatusCode.OK), s => Assert.Equal(HttpStatusCode.Forbidden, s));
        Assert.Single(await NodePair.InstancesAsync(two, study));
    }

    [Fact]
    public async Task A_viewer_token_issued_on_one_node_opens_its_study_on_the_other_and_nothing_else()
    {
        using var one = nodes.Client(nodes.One);
        var (bytes, study, _, sop) = SyntheticInstances.Create();
        var other = SyntheticInstances.Create();
        Assert.Equal(HttpStatusCode.OK, (await one.PostAsync("/dicomweb/studies", Multipart.Related(bytes, other.Bytes))).StatusCode);

        // A fresh signing key made by node one (the first token of the database) is found by node two in the database.
        var token = (await one.GetFromJsonAsync<JsonElement>($"/token?studyUID={study}")).GetProperty("token").GetString()!;
        using var viewer = NodePair.Anonymous(nodes.Two);
        viewer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        Assert.Equal([sop], await NodePair.InstancesAsync(viewer, study));
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/dicomweb/studies/{other.Study}/instances")).StatusCode);

        // Its use on node two is recorded in the one database, on the token's stream.
        var tokenId = Guid.Parse(JsonDocument.Parse(Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlDecode(token.Split('.')[1])).RootElement.GetProperty("Id").GetString()!);
        Assert.True(await nodes.ScalarAsync("select count(*) from eventsourced.mt_events where stream_id = @id and type = 'viewer_token_used'", ("id", tokenId)) >= 1);

        // A token whose payload was changed (another study) verifies on neither node.
        var parts = token.Split('.');
        var forged = parts[0] + "." + Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode(
            System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlDecode(parts[1])).Replace(study, other.Study))) + "." + parts[2];
        foreach (var node in new[] { nodes.One, nodes.Two })
        {
            using var forger = NodePair.Anonymous(node);
            forger.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", forged);
            Assert.Equal(HttpStatusCode.Unauthorized, (await forger.GetAsync($"/dicomweb/studies/{other.Study}/instances")).StatusCode);
        }
    }

    [Fact]
    public async Task A_revoked_API_key_is_refused_by_both_nodes_within_the_key_cache_bound()
    {
        var cli = await nodes.One.RunCliAsync("tenants", "issue-key", NodePair.Tenant, "--scopes", "studies.read");
        var key = cli.Split("Authorization: ")[1].Split('\n')[0].Trim();
        Assert.True(Application.Tenants.ApiKeys.TryGetKeyId(key, out var keyId));
        using var one = nodes.Client(nodes.One, key);
        using var two = nodes.Client(nodes.Two, key);

        // Both nodes have the key in their cache now.
        Assert.Equal(HttpStatusCode.NoContent, (await one.GetAsync("/dicomweb/studies?PatientID=nobody")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await two.GetAsync("/dicomweb/studies?PatientID=nobody")).StatusCode);
        await nodes.One.RunCliAsync("tenants", "revoke-key", NodePair.Tenant, keyId);
        var revokedAt = Stopwatch.StartNew();

        // Each node refuses it once its cached entry (at most ApiKeyCache.Lifetime old) has run out.
        foreach (var client in new[] { one, two })
        {
            await Eventually.Until(
                async () => (await client.GetAsync("/dicomweb/studies?PatientID=nobody")).StatusCode,
                s => s == HttpStatusCode.Unauthorized,
                TimeSpan.FromSeconds(90),
                "the revoked key to be refused");
        }

        // The bound itself (10 s) is not asserted against the wall clock of a loaded machine; the time is reported.
        output.WriteLine($"Revoked API key refused by both nodes {revokedAt.Elapsed.TotalSeconds:F1} s after the revocation (bound {ApiKeyCache.Lifetime.TotalSeconds} s).");
    }

    [Fact]
    public async Task Failed_sign_ins_on_one_node_throttle_the_username_on_the_other()
    {
        var cli = await nodes.One.RunCliAsync("tenants", "add-user", NodePair.Tenant, "throttled@nodes");
        var password = cli.Split("X-PASSWORD: ")[1].Split('\n')[0].Trim();
        var path = EventSourced.Web.Archive.ArchiveRoutes.PatientGet;

        // Five failures, spread over both nodes: the limit counts them together.
        for (var i = 0; i < 5; i++)
        {
            using var wrong = User(i % 2 == 0 ? nodes.One : nodes.Two, "throttled@nodes", "not-the-password");
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(path)).StatusCode);
        }

        foreach (var node in new[] { nodes.One, nodes.Two })
        {
            using var right = User(node, "throttled@nodes", password);
            var answer = await right.GetAsync(path);
            Assert.Equal(HttpStatusCode.TooManyRequests, answer.StatusCode);
            Assert.True(answer.Headers.RetryAfter?.Delta > TimeSpan.FromMinutes(10));
        }

        // The fixture's own user, from the same address, is not locked by another user's failures.
        using var other = User(nodes.Two, nodes.Username, nodes.Password);
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await other.GetAsync(path)).StatusCode);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, (await other.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task Metadata_and_files_kept_on_one_node_follow_a_store_a_merge_and_a_move_made_on_the_other_at_once()
    {
        using var one = nodes.Client(nodes.One);
        using var two = nodes.Client(nodes.Two);
        var (patientA, patientB) = ("NC-A-" + Guid.NewGuid().ToString("N")[..6], "NC-B-" + Guid.NewGuid().ToString("N")[..6]);
        var source = await Patients.PatientSupport.StowStudyAsync(one, patientA, "ALPHA^ANN");
        var target = await Patients.PatientSupport.StowStudyAsync(one, patientB, "BETA^BOB");

        // Node two renders and keeps the study's metadata and its corrections (none), reading each twice.
        Assert.Equal([source.Sops[0]], (await Retrieval.RetrievalCacheTests.MetadataAsync(two, source.Study)).Keys);
        Assert.Equal(patientA, (await Retrieval.RetrievalCacheTests.InstanceAsync(two, source.Study, source.Series[0], source.Sops[0]))!.GetString(EventSourced.Dicom.DicomTags.PatientID));

        // A STOW on node one: node two's next metadata has the new instance.
        var added = SyntheticInstances.Create(source.Study);
        Assert.Equal(HttpStatusCode.OK, (await one.PostAsync("/dicomweb/studies", Multipart.Related(added.Bytes))).StatusCode);
        Assert.Equal(new[] { source.Sops[0], added.Sop }.Order(), (await Retrieval.RetrievalCacheTests.MetadataAsync(two, source.Study)).Keys.Order());

        // A merge on node one: node two's next metadata and file carry the surviving patient.
        await Patients.PatientSupport.OkJsonAsync(await Patients.PatientSupport.PostAsync(one, "patients/merge",
            $$"""{"sourcePatientID":"{{patientA}}","targetPatientID":"{{patientB}}","userName":"u"}"""));
        var merged = await Retrieval.RetrievalCacheTests.MetadataAsync(two, source.Study);
        Assert.Equal(patientB, merged[source.Sops[0]]);
        Assert.Equal(patientB, (await Retrieval.RetrievalCacheTests.InstanceAsync(two, source.Study, source.Series[0], source.Sops[0]))!.GetString(EventSourced.Dicom.DicomTags.PatientID));

        // A move on node one: node two serves the series under the target, with the target's identity in the file.
        Assert.Single(await Retrieval.RetrievalCacheTests.MetadataAsync(two, target.Study));
        await Patients.PatientSupport.OkJsonAsync(await Patients.PatientSupport.PostAsync(one, "studies/reconcile",
            $$"""{"sourceStudyInstanceUID":"{{source.Study}}","targetStudyInstanceUID":"{{target.Study}}","patientID":"{{patientB}}","userName":"u"}"""));
        Assert.Empty(await Retrieval.RetrievalCacheTests.MetadataAsync(two, source.Study));
        Assert.Contains(source.Sops[0], (await Retrieval.RetrievalCacheTests.MetadataAsync(two, target.Study)).Keys);
        var moved = await Retrieval.RetrievalCacheTests.InstanceAsync(two, target.Study, source.Series[0], source.Sops[0]);
        Assert.Equal(target.Study, moved!.GetString(EventSourced.Dicom.DicomTags.StudyInstanceUID));
    }

    [Fact]
    public async Task A_series_deleted_on_one_node_is_no_longer_served_by_the_other_from_its_warm_reads()
    {
        using var one = nodes.Client(nodes.One);
        using var two = nodes.Client(nodes.Two);
        var study = await Studies.UploadedStudy.UploadAsync(one, series: 2, perSeries: 1);
        var (gone, kept) = (study.Instances[0], study.Instances[1]);

        // Node two keeps the study's rendering and corrections: each retrieval read twice, the second by its warm reads.
        Assert.Equal(study.Instances.Select(i => i.Sop).Order(), (await Retrieval.RetrievalCacheTests.MetadataAsync(two, study.Study)).Keys.Order());
        Assert.NotNull(await Retrieval.RetrievalCacheTests.InstanceAsync(two, study.Study, gone.Series, gone.Sop));
        Assert.NotNull(await Retrieval.RetrievalCacheTests.InstanceAsync(two, study.Study, kept.Series, kept.Sop));

        // Document d's series delete on node one: node two's very next retrievals no longer have it.
        await Archive.ArchiveDeleteTests.DeleteOkAsync(one, "series", Archive.ArchiveDeleteTests.Params(study.PatientId, study.Study, gone.Series));
        Assert.Null(await Retrieval.RetrievalCacheTests.InstanceAsync(two, study.Study, gone.Series, gone.Sop));
        Assert.Equal([kept.Sop], (await Retrieval.RetrievalCacheTests.MetadataAsync(two, study.Study)).Keys);

        // The instance still served is answered whole with its length: Content-Length is the body's.
        var response = await two.GetAsync($"/dicomweb/studies/{study.Study}/series/{kept.Series}/instances/{kept.Sop}");
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.Equal(kept.Sop, EventSourced.Dicom.DicomReader.Read(Assert.Single(await Ingestion.CorpusRoundTripTests.PartsAsync(response))).Dataset.GetString(EventSourced.Dicom.DicomTags.SOPInstanceUID));
    }

    private static HttpClient User(ServiceProcess node, string username, string password)
    {
        var http = NodePair.Anonymous(node);
        http.DefaultRequestHeaders.Add(ArchiveUserAuthenticationHandler.UsernameHeader, username);
        http.DefaultRequestHeaders.Add(ArchiveUserAuthenticationHandler.PasswordHeader, password);
        return http;
    }

    private static ByteArrayContent Dicom(byte[] bytes) =>
        new(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/dicom") } };
}
