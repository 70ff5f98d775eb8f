using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Web.Tests.Archive;
using EventSourced.Web.Tests.Clients;
using EventSourced.Web.Tests.Pathology;
using EventSourced.Web.Tests.Support;

namespace EventSourced.Web.Tests.Forwarding;

/// <summary>Requests and waits shared by the forwarding tests.</summary>
public static class ForwardingSupport
{
    public const string SeriesJob = "to-peer";
    public const string SlidesJob = "to-slides";

    /// <summary>The DICOM node (<c>Nodes:Dicom</c>) pathoRsListener's CALLING_AET names.</summary>
    public const string Scanner = "SCANNER1";

    /// <summary>Stores a slide through document e's pathoRsListener under <paramref name="container"/>; its 200 body.</summary>
    public static async Task<JsonElement> UploadSlideAsync(HttpClient client, string container, byte[] file, string fileName, string? type = null, string? fileHash = null)
    {
        var metadata = SlideFiles.Metadata("ACC-" + Guid.NewGuid().ToString("N")[..8], container);
        var response = await client.PostAsync(
            $"/o3-dpacs-wado/pathoRsListener/{Scanner}/studies",
            SlideFiles.Form(metadata, file, fileName, type, fileHash, file.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A Forward Series job to the DICOMweb node at <paramref name="node"/>; retries an hour apart (tests make them due).</summary>
    public static Dictionary<string, string?> SeriesJobSettings(Uri node, int maxAttempts = 3) => new()
    {
        ["Forwarding:Nodes:peer:Url"] = node.ToString(),
        [$"Forwarding:Jobs:{SeriesJob}:Type"] = "ForwardSeries",
        [$"Forwarding:Jobs:{SeriesJob}:Node"] = "peer",
        ["Forwarding:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Forwarding:FirstRetryDelay"] = "01:00:00",
        ["Forwarding:MaxRetryDelay"] = "04:00:00",
    };

    /// <summary><paramref name="count"/> instances of one new series (pydicom's CT_small re-identified), stored through STOW-RS.</summary>
    public static async Task<ArchiveSupport.Instance[]> StoreSeriesAsync(HttpClient client, int count, string? study = null, string? container = null)
    {
        var patient = "P-" + Guid.NewGuid().ToString("N")[..8];
        study ??= DicomUid.Generate();
        var series = DicomUid.Generate();
        var instances = Enumerable.Range(1, count).Select(i => ArchiveSupport.Create(patient, study, series, attributes:
            [.. new (string, DicomVR, string?)[] { ("InstanceNumber", DicomVR.IS, i.ToString(System.Globalization.CultureInfo.InvariantCulture)) }
                .Concat(container is null ? [] : [("ContainerIdentifier", DicomVR.LO, container)])])).ToArray();
        var response = await client.PostAsync("/dicomweb/studies", Multipart.Related([.. instances.Select(i => i.Bytes)]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return instances;
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostForwardAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/o3-dpacs-wado/series/forward", body);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Forwards a series and returns the forward's id (one job configured).</summary>
    public static async Task<Guid> ForwardSeriesAsync(HttpClient client, string series)
    {
        var (status, body) = await PostForwardAsync(client, new { seriesInstanceUID = series, author = "john" });
        Assert.True(status == HttpStatusCode.OK, $"{status} {body}");
        Assert.Equal("forward enqueued", body.GetProperty("message").GetString());
        return Guid.Parse(Assert.Single(body.GetProperty("forwards").EnumerateArray()).GetString()!);
    }

    public static async Task<JsonElement> ForwardAsync(HttpClient client, Guid id)
    {
        var (status, body) = await client.GetJsonAsync($"/o3-dpacs-wado/forwards/{id}");
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    /// <summary>Waits until the forward is in <paramref name="state"/> after <paramref name="attempts"/> attempts.</summary>
    public static Task<JsonElement> UntilAsync(HttpClient client, Guid id, string state, int attempts, int seconds = 90) =>
        Eventually.Until(
            () => ForwardAsync(client, id),
            f => f.GetProperty("state").GetString() == state && f.GetProperty("attempts").GetInt32() == attempts,
            TimeSpan.FromSeconds(seconds),
            $"forward {id} to be {state} after {attempts} attempt(s)");

    /// <summary>What our WADO-RS serves for each instance: SOPInstanceUID → SHA-256.</summary>
    public static async Task<Dictionary<string, string>> WadoHashesAsync(HttpClient client, string study, IEnumerable<string> sops)
    {
        var hashes = new Dictionary<string, string>();
        foreach (var sop in sops)
        {
            hashes[sop] = Convert.ToHexStringLower(SHA256.HashData(await OrthancPeerTests.InstanceBytesAsync(client, study, sop)));
        }

        return hashes;
    }

    /// <summary>
    /// The forward events in the log. Refusals are checked on these rather than on the whole log's count:
    /// storing the test's instances cascades events that may still land during the assertion.
    /// </summary>
    public static async Task<long> ForwardEventCountAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return (long)(await new Npgsql.NpgsqlCommand(
            "select count(*) from eventsourced.mt_events where type in ('forward_requested', 'series_forwarded', 'forward_failed', 'forward_retried')",
            connection).ExecuteScalarAsync())!;
    }

    /// <summary>The kinds the study's feed (document e's studyEvents) shows for it, in order.</summary>
    public static async Task<List<JsonElement>> StudyEventsAsync(HttpClient client, string study)
    {
        var (status, page) = await client.GetJsonAsync("/o3-dpacs-wado/studyEvents?offsetId=0&limit=1000");
        Assert.Equal(HttpStatusCode.OK, status);
        return [.. page.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("studyInstanceUid").GetString() == study)];
    }
}
