namespace EventSourced.Web.DicomService.Callbacks;

/// <summary>
/// Configuration section <c>Callbacks</c>; the document's environment variable <c>CALLBACK_URLS</c>
/// (comma-separated) is read too, and both lists are joined.
/// </summary>
public sealed class CallbackOptions
{
    public const string Section = "Callbacks";
    public const string EnvironmentVariable = "CALLBACK_URLS";

    /// <summary>Comma-separated absolute http(s) URLs each received callback is forwarded to.</summary>
    public string? Urls { get; set; }

    /// <summary>The shared secret of the deliveries' HMAC-SHA256 signature (<c>X-Callback-Signature</c>). Required when URLs are set.</summary>
    public string? SigningSecret { get; set; }

    /// <summary>Attempts per delivery, the first included; after the last failure the message goes to the dead-letter storage.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The delay before the first retry; each next one doubles, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long one delivery attempt may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public static CallbackOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<CallbackOptions>() ?? new CallbackOptions();
        var urls = new[] { options.Urls, configuration[EnvironmentVariable] }
            .SelectMany(list => (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new InvalidOperationException($"{EnvironmentVariable} / {Section}:Urls: '{url}' is not an absolute http(s) URL.");
            }
        }

        if (urls.Count > 0 && string.IsNullOrEmpty(options.SigningSecret))
        {
            throw new InvalidOperationException(
                $"{EnvironmentVariable} lists endpoints but {Section}:SigningSecret is not set: every delivery is signed (docs/api-compatibility.md).");
        }

        if (options.MaxAttempts < 1)
        {
            throw new InvalidOperationException($"{Section}:MaxAttempts is at least 1.");
        }

        options.Urls = string.Join(',', urls);
        return options;
    }

    public IReadOnlyList<string> UrlList => (Urls ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The waits between attempts: exponential from the first delay, capped.</summary>
    public TimeSpan[] RetryDelays() =>
        [.. Enumerable.Range(0, MaxAttempts - 1).Select(i => TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, FirstRetryDelay.Ticks * (1L << Math.Min(i, 30)))))];
}
