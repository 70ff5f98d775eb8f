namespace EventSourced.Web.Infrastructure.Blobs;

/// <summary>
/// Configuration section <c>Storage</c>: the storage locations besides the local medium (<c>Blobs:Root</c>),
/// each by the name a relocation request uses. Nothing configured: every study stays on the local medium.
/// </summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>The name of the local medium (<c>Blobs:Root</c>) in relocation requests (<c>physicalMediumName</c>).</summary>
    public string LocalMediumName { get; set; } = "local";

    /// <summary>Further physical media: name → directory.</summary>
    public Dictionary<string, PhysicalMediumOptions> PhysicalMedia { get; set; } = [];

    /// <summary>Buckets on S3-compatible services: name (a relocation request's <c>bucketName</c>) → service and bucket.</summary>
    public Dictionary<string, BucketOptions> Buckets { get; set; } = [];

    /// <summary>
    /// Test-only: the relocation step at which the process ends abruptly (<c>copied-one</c>, <c>copied</c>,
    /// <c>switched</c>, <c>removed-one</c>), optionally only towards one target (<c>copied@local</c>), for the
    /// crash tests. Empty (always, in service): no fault.
    /// </summary>
    public string? RelocationCrashAt { get; set; }
}

public sealed class PhysicalMediumOptions
{
    /// <summary>Root folder; relative paths are under the content root. Same layout as the local medium.</summary>
    public string Root { get; set; } = "";
}

public sealed class BucketOptions
{
    /// <summary>The service's endpoint, e.g. <c>https://s3.eu-west-1.amazonaws.com</c> or a MinIO / s3rver URL.</summary>
    public string ServiceUrl { get; set; } = "";

    /// <summary>The bucket's name on the service; empty: the configured name.</summary>
    public string? BucketName { get; set; }

    public string Region { get; set; } = "us-east-1";

    public string AccessKey { get; set; } = "";

    public string SecretKey { get; set; } = "";

    /// <summary>Path-style addressing (<c>{url}/{bucket}/{key}</c>), which most S3-compatible services need.</summary>
    public bool ForcePathStyle { get; set; } = true;

    /// <summary>A prefix for the object keys (e.g. <c>blobs/</c>), so a bucket can be shared.</summary>
    public string KeyPrefix { get; set; } = "";
}
