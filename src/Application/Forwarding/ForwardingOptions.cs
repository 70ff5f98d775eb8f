using EventSourced.Domain.Forwarding;

namespace EventSourced.Application.Forwarding;

/// <summary>
/// Configuration section <c>Forwarding</c>: the DICOMweb nodes series are sent to, the jobs that name them
/// (document e's "Forward Series" job) or an HTTP endpoint ("Forward Non DICOM Slides" job), and the retry
/// schedule. A missing or incomplete job is not a start-up error: document e answers it per request
/// (500 "forward job not configured", …), so the service runs without any forwarding configured.
/// </summary>
public sealed class ForwardingOptions
{
    public const string Section = "Forwarding";
    public const string SeriesJobType = "ForwardSeries";
    public const string SlidesJobType = "ForwardNonDicomSlides";

    /// <summary>DICOMweb destination nodes by name.</summary>
    public Dictionary<string, ForwardNode> Nodes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Forward jobs by name.</summary>
    public Dictionary<string, ForwardJob> Jobs { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Attempts per forward, the first included; after the last failure the forward is dead-lettered.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The wait before the first retry; each next one doubles, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long one request to the destination may take (one series, or one slide file).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The waits after attempt 1, 2, …, MaxAttempts − 1: exponential from the first delay, capped.</summary>
    public TimeSpan[] RetryDelays() =>
        [.. Enumerable.Range(0, Math.Max(0, MaxAttempts - 1)).Select(i => TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, FirstRetryDelay.Ticks * (1L << Math.Min(i, 30)))))];

    /// <summary>
    /// The jobs a request of <paramref name="kind"/> enqueues to, with their destinations; or document e's
    /// configuration error (its 500 text) when there is none or one is incomplete.
    /// </summary>
    public (IReadOnlyList<ForwardDestination> Destinations, string? Error) Resolve(ForwardKind kind)
    {
        var type = kind == ForwardKind.Series ? SeriesJobType : SlidesJobType;
        var jobs = Jobs.Where(j => string.Equals(j.Value.Type, type, StringComparison.OrdinalIgnoreCase)).OrderBy(j => j.Key, StringComparer.Ordinal).ToList();
        if (jobs.Count == 0)
        {
            return ([], "forward job not configured");
        }

        var destinations = new List<ForwardDestination>();
        foreach (var (name, job) in jobs)
        {
            var (destination, error) = Destination(name, job, kind);
            if (error is not null)
            {
                return ([], error);
            }

            destinations.Add(destination!);
        }

        return (destinations, null);
    }

    /// <summary>Where job <paramref name="name"/> sends now (the sender reads it per attempt, so a corrected configuration serves a retry).</summary>
    public (ForwardDestination? Destination, string? Error) Current(string name, ForwardKind kind) =>
        Jobs.TryGetValue(name, out var job) && string.Equals(job.Type, kind == ForwardKind.Series ? SeriesJobType : SlidesJobType, StringComparison.OrdinalIgnoreCase)
            ? Destination(name, job, kind)
            : (null, "forward job not configured");

    private (ForwardDestination? Destination, string? Error) Destination(string name, ForwardJob job, ForwardKind kind)
    {
        if (kind == ForwardKind.NonDicomSlides)
        {
            return IsHttpUrl(job.Endpoint)
                ? (new ForwardDestination(name, job.Endpoint!, Blank(job.Authorization)), null)
                : (null, "forward endpoint not configured");
        }

        if (string.IsNullOrWhiteSpace(job.Node))
        {
            return (null, "forward node not configured");
        }

        if (!Nodes.TryGetValue(job.Node, out var node))
        {
            return (null, "forward node not found");
        }

        return IsHttpUrl(node.Url)
            ? (new ForwardDestination(name, node.Url!, Blank(node.Authorization)), null)
            : (null, "forward node not configured");
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}

/// <summary>A DICOMweb peer: <see cref="Url"/> is its base (STOW-RS is <c>{Url}/studies</c>); <see cref="Authorization"/> the header value sent, if any.</summary>
public sealed class ForwardNode
{
    public string? Url { get; set; }
    public string? Authorization { get; set; }
}

/// <summary>A job: <see cref="Type"/> <c>ForwardSeries</c> (names a <see cref="Node"/>) or <c>ForwardNonDicomSlides</c> (an <see cref="Endpoint"/> and optional <see cref="Authorization"/>).</summary>
public sealed class ForwardJob
{
    public string? Type { get; set; }
    public string? Node { get; set; }
    public string? Endpoint { get; set; }
    public string? Authorization { get; set; }
}

/// <summary>A job's destination: where it sends (<see cref="Url"/>, recorded in the events) and the header it sends (never recorded).</summary>
public sealed record ForwardDestination(string Job, string Url, string? Authorization);
