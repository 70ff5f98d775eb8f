using EventSourced.Projections.Qido;
using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Folds the instance-location table (<c>mt_doc_instancelocation</c>, one document per SOP Instance UID and tenant,
/// written beside every instance record) into the instance records, before Marten compares the schema: the
/// records' location columns (transfer syntax, blob hash and length, storage time: QidoRegistration) are added
/// empty, filled from each record's own document in batches of <see cref="QidoSchemaUpgrade.BatchSize"/> rows in key
/// order (each batch its own short transaction: a stop half-way resumes), and only then is the old table dropped,
/// with the functions Marten wrote for it. Every location the old table held was a copy of an instance record's
/// (the same event wrote both), so nothing is lost. A database without the old table and with the columns (a new
/// one, or already upgraded) costs three catalogue queries.
/// </summary>
public static class LocationSchemaUpgrade
{
    /// <summary>The location columns, each with its type as Marten declares it and the expression that fills it from the document.</summary>
    private static readonly (string Column, string Type, string Fill)[] Columns =
    [
        ("transfer_syntax_uid", "varchar", $"d.data ->> '{nameof(QidoInstance.TransferSyntaxUid)}'"),
        (QidoRegistration.BlobSha256Column, "varchar", $"d.data -> '{nameof(QidoInstance.Blob)}' ->> 'Sha256'"),
        (QidoRegistration.BlobLengthColumn, "bigint", $"(d.data -> '{nameof(QidoInstance.Blob)}' ->> 'Length')::bigint"),
        // Cut to microseconds as Npgsql writes a DateTimeOffset (the text would round).
        ("stored_at", "timestamp with time zone", $"regexp_replace(d.data ->> '{nameof(QidoInstance.StoredAt)}', '{SchemaUpgrades.Microseconds}', '\\1')::timestamptz"),
    ];

    /// <summary>Fills the instance records' location columns and drops the old table if needed; returns the rows filled.</summary>
    public static async Task<long> ApplyAsync(NpgsqlDataSource dataSource, string schema, ILogger logger, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        var table = $"{schema}.mt_doc_qidoinstance";
        var records = await SchemaUpgrades.ScalarAsync<bool>(connection, $"select to_regclass('{table}') is not null", cancellation);
        var present = await SchemaUpgrades.ColumnsPresentAsync(connection, schema, "mt_doc_qidoinstance", [.. Columns.Select(c => c.Column)], cancellation);
        var old = await SchemaUpgrades.ScalarAsync<bool>(connection, $"select to_regclass('{schema}.mt_doc_instancelocation') is not null", cancellation);
        var filled = 0L;
        if (records && present < Columns.Length)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            logger.LogWarning("Upgrading {Table}: location columns, filled from the documents", table);
            foreach (var (column, type, _) in Columns)
            {
                await SchemaUpgrades.ExecuteAsync(connection, $"alter table {table} add column if not exists {column} {type} NULL", cancellation);
            }

            // Key order in batches; a row written meanwhile by the new code already has its columns.
            filled = await SchemaUpgrades.FillAsync(connection, table,
                string.Join(", ", Columns.Select(c => $"{c.Column} = {c.Fill}")),
                string.Join(" or ", Columns.Select(c => $"d.{c.Column} is null")), cancellation);
            logger.LogWarning("Upgraded {Table}: {Rows} rows filled in {Seconds:0.0} s", table, filled, clock.Elapsed.TotalSeconds);
        }

        if (old)
        {
            logger.LogWarning("Dropping {Schema}.mt_doc_instancelocation: the instance records hold the locations", schema);
            await SchemaUpgrades.ExecuteAsync(connection, $"drop table if exists {schema}.mt_doc_instancelocation", cancellation);
            foreach (var function in new[] { "upsert", "insert", "update", "overwrite" })
            {
                await SchemaUpgrades.ExecuteAsync(connection, $"drop function if exists {schema}.mt_{function}_instancelocation", cancellation);
            }
        }

        return filled;
    }
}
