using System.Net;
using System.Text.Json;
using EventSourced.Web.Tests.Support;
using Npgsql;

namespace EventSourced.Web.Tests.Nodes;

/// <summary>
/// Two service processes in <c>Balanced</c> node mode on one database and one blob folder, as an operator
/// runs them behind a load balancer. Node one starts first (so it is the first to take the async daemon's
/// and Wolverine's leadership); node two joins it.
/// </summary>
public sealed class NodePair : IAsyncLifetime
{
    /// <summary>The order metadata deadline of these nodes: long enough to kill a node before it is due.</summary>
    public static readonly TimeSpan MetadataDeadline = TimeSpan.FromSeconds(20);

    private readonly ScratchSpace scratch = new("nodes");

    public ServiceProcess One { get; private set; } = null!;

    public ServiceProcess Two { get; private set; } = null!;

    public string ConnectionString => scratch.ConnectionString;

    public string BlobFolder => scratch.Folder;

    /// <summary>An API key with every scope, for tenant <see cref="Tenant"/>.</summary>
    public string Key { get; private set; } = "";

    public string Username { get; private set; } = "";

    public string Password { get; private set; } = "";

    public const string Tenant = "nodes";

    public static IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["EventStore__NodeMode"] = "Balanced",
        ["EventStore__ScheduledJobPollingTime"] = "00:00:01",
        ["Orders__MetadataDeadline"] = MetadataDeadline.ToString(),

        // Handlers compile on first use, as in the suite's other hosts: start-up stays short on a loaded machine.
        ["Hosting__WarmUp"] = "false",
    };

    /// <summary>Generous: on a loaded 2-core machine a start-up has been seen to take 75 s.</summary>
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromMinutes(3);

    public async Task InitializeAsync()
    {
        await scratch.InitializeAsync();
        One = new ServiceProcess(scratch.ConnectionString, scratch.Folder, Settings);
        Two = new ServiceProcess(scratch.ConnectionString, scratch.Folder, Settings);
        var output = await One.RunCliAsync("tenants", "ensure", Tenant);
        Key = Line(output, "Authorization: ");
        Username = Line(output, "X-USERNAME: ");
        Password = Line(output, "X-PASSWORD: ");
        await One.StartAsync(ReadyWithin);
        await Two.StartAsync(ReadyWithin);
    }

    public async Task DisposeAsync()
    {
        await One.DisposeAsync();
        await Two.DisposeAsync();
        await scratch.DisposeAsync();
    }

    public HttpClient Client(ServiceProcess node, string? key = null)
    {
        var http = new HttpClient { BaseAddress = node.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", key ?? Key);
        return http;
    }

    public static HttpClient Anonymous(ServiceProcess node) => new() { BaseAddress = node.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

    public async Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(scratch.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>The SOP Instance UIDs QIDO-RS of the study answers on that node (none: 204).</summary>
    public static async Task<List<string>> InstancesAsync(HttpClient client, string study)
    {
        var response = await client.GetAsync($"/dicomweb/studies/{study}/instances");
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return [];
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return [.. body.EnumerateArray().Select(i => i.GetProperty(Dicom.DicomTags.SOPInstanceUID.JsonKey()).GetProperty("Value")[0].GetString()!)];
    }

    /// <summary>The study feed (document e's studyEvents) entries of one study, as that node answers.</summary>
    public static async Task<List<JsonElement>> FeedAsync(HttpClient client, string study)
    {
        var (status, page) = await client.GetJsonAsync("/o3-dpacs-wado/studyEvents?offsetId=0&limit=1000");
        Assert.Equal(HttpStatusCode.OK, status);
        return [.. page.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("studyInstanceUid").GetString() == study)];
    }

    private static string Line(string output, string label) => output.Split(label)[1].Split('\n')[0].Trim();
}
