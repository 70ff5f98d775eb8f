namespace EventSourced.Application.Blobs;

/// <summary>
/// The blobs an event names, as SQL over the event log (<c>mt_events</c>), and the index that answers "which events name
/// this blob" without reading the log: the authority of the blob sweeper, of a patient's erasure and of a study's
/// relocation on whether bytes are still needed (docs/architecture.md, "Which events name a blob").
/// <para>
/// An event names a blob by its SHA-256 in a member called <c>Sha256</c>, at any depth (every <c>BlobRef</c>, a series
/// result's file), or in its own <c>PreviousSha256</c> (an instance replaced or erased). A purge's
/// <c>ReleasedBlobs</c> is not a naming: it releases hashes its stream's earlier events named. An event type that
/// carried a hash in another member would escape the index: the event schema test fails on one
/// (<c>EventSchemaSnapshotTests</c>).
/// </para>
/// </summary>
public static class EventBlobNames
{
    /// <summary>The GIN index over <see cref="Of"/>: declared to Marten as ignored (built by us, concurrently, after Marten's schema).</summary>
    public const string IndexName = "mt_events_blob_names";

    /// <summary>
    /// The hashes the event row <paramref name="alias"/> names, a jsonb array (the index's expression: a statement is served
    /// by the index only when it is written with this text). About 3 µs an event, most of it reading the stored row.
    /// </summary>
    public static string Of(string alias) =>
        $"(jsonb_path_query_array({alias}.data, 'strict $.**.Sha256') || jsonb_path_query_array({alias}.data, 'lax $.PreviousSha256'))";

    /// <summary>The condition "the event row <paramref name="alias"/> names the hash <paramref name="sha"/>" (SQL text), which the index serves.</summary>
    public static string Names(string alias, string sha) => $"{Of(alias)} @> jsonb_build_array({sha})";

    /// <summary>
    /// The index, built without holding writers (<c>CONCURRENTLY</c>: outside a transaction, one statement alone).
    /// <c>jsonb_path_ops</c> keeps a 4-byte hash per name; <c>fastupdate = off</c> puts each append's one or two entries
    /// straight into the index, where a pending list would make one append in thousands merge them all.
    /// </summary>
    public static string CreateIndex(string schema) =>
        $"create index concurrently if not exists {IndexName} on \"{schema}\".mt_events using gin (({Of("mt_events")}) jsonb_path_ops) with (fastupdate = off)";
}
