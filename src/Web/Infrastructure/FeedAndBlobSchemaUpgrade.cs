using EventSourced.Projections.StudyFeed;
using Marten;
using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Brings a database written before the study feed kept a row per entry (<see cref="StudyFeedRow"/>, table
/// <c>mt_doc_studyfeedrow</c>) instead of the whole entry (<c>mt_doc_studyfeedentry</c>), and before the blob
/// references were keyed by a UUID with an empty document, up to date when the host starts, before Marten
/// compares the schema. The feed's rows are copied from the old entries in one transaction that also drops
/// the old table (so a stop half-way leaves the old table, and the next start copies again), the same rows a
/// rebuild from the log writes; the daemon's progress is untouched. The blob table is rewritten in place by
/// one <c>ALTER TABLE</c>. A database without the old tables (a new one) or already upgraded costs two
/// catalogue queries.
/// </summary>
public static class FeedAndBlobSchemaUpgrade
{
    private const string EmptyDocument = "'{}'::jsonb";

    /// <summary>Upgrades what needs it; returns the feed rows copied and the blob rows rewritten.</summary>
    public static async Task<(long FeedRows, long BlobRows)> ApplyAsync(
        IDocumentStore store, NpgsqlDataSource dataSource, string schema, ILogger logger, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        return (await FeedAsync(store, connection, schema, logger, cancellation), await BlobsAsync(connection, schema, logger, cancellation));
    }

    private static async Task<long> FeedAsync(IDocumentStore store, NpgsqlConnection connection, string schema, ILogger logger, CancellationToken cancellation)
    {
        var old = $"\"{schema}\".mt_doc_studyfeedentry";
        if (await SchemaUpgrades.ScalarAsync<bool>(connection, $"select to_regclass('{old}') is null", cancellation))
        {
            return 0;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        logger.LogWarning("Upgrading {Table}: one row per study-feed entry in mt_doc_studyfeedrow", old);
        await store.Storage.Database.EnsureStorageExistsAsync(typeof(StudyFeedRow), cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);

        // The id as StudyFeedRow.IdOf; the time cut to microseconds as Npgsql writes a DateTimeOffset (the text would round).
        await using var copy = new NpgsqlCommand($"""
            insert into "{schema}".mt_doc_studyfeedrow (tenant_id, id, data, study_instance_uid, sop_instance_uid, change_feed_action, occurred_at)
            select tenant_id, (sequence << {StudyFeedRow.IndexBits}) | (data ->> 'Index')::bigint, {EmptyDocument}, study_instance_uid,
                   data ->> 'SopInstanceUid', data ->> 'ChangeFeedAction', regexp_replace(data ->> 'OccurredAt', '{SchemaUpgrades.Microseconds}', '\1')::timestamptz
            from {old}
            on conflict do nothing
            """, connection, transaction) { CommandTimeout = 0 };
        var copied = await copy.ExecuteNonQueryAsync(cancellation);
        await using (var drop = new NpgsqlCommand($"drop table {old}", connection, transaction))
        {
            await drop.ExecuteNonQueryAsync(cancellation);
        }

        await transaction.CommitAsync(cancellation);
        logger.LogWarning("Upgraded {Table}: {Rows} rows copied in {Seconds:0.0} s", old, copied, clock.Elapsed.TotalSeconds);
        return copied;
    }

    private static async Task<long> BlobsAsync(NpgsqlConnection connection, string schema, ILogger logger, CancellationToken cancellation)
    {
        var table = $"\"{schema}\".mt_doc_referencedblob";
        var idType = await SchemaUpgrades.ScalarAsync<string?>(connection,
            $"select data_type::text from information_schema.columns where table_schema = '{schema}' and table_name = 'mt_doc_referencedblob' and column_name = 'id'", cancellation);
        if (idType is null or "uuid")
        {
            return 0;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        logger.LogWarning("Upgrading {Table}: ids to UUIDs (ReferencedBlob.IdOf), empty documents", table);

        // One rewrite of the table: the id as ReferencedBlob.IdOf, the document emptied, the bookkeeping columns gone.
        await using var alter = new NpgsqlCommand($"""
            alter table {table}
                drop column if exists mt_last_modified,
                drop column if exists mt_version,
                drop column if exists mt_dotnet_type,
                alter column id type uuid using substr(id, 1, 32)::uuid,
                alter column data type jsonb using {EmptyDocument}
            """, connection) { CommandTimeout = 0 };
        await alter.ExecuteNonQueryAsync(cancellation);
        var rows = await SchemaUpgrades.ScalarAsync<long>(connection, $"select count(*) from {table}", cancellation);
        logger.LogWarning("Upgraded {Table}: {Rows} rows in {Seconds:0.0} s", table, rows, clock.Elapsed.TotalSeconds);
        return rows;
    }
}
