using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Brings an instance-location table created while its documents had numeric revisions (<c>mt_version bigint</c>,
/// default 0) to the version column Marten declares for them now (<c>uuid</c>, a random default), before Marten
/// compares the schema: Marten's own delta is a bare <c>alter column … type uuid</c>, which PostgreSQL refuses
/// (no cast from bigint), and the start-up stopped there. Nothing reads the version of a location (no optimistic
/// concurrency on them), so every row is given a fresh one. A database without the table or already upgraded
/// costs one catalogue query.
/// </summary>
public static class LocationSchemaUpgrade
{
    private const string RandomVersion = "md5(random()::text || clock_timestamp()::text)::uuid";

    /// <summary>Upgrades <c>{schema}.mt_doc_instancelocation</c> if it exists and needs it; returns whether it did.</summary>
    public static async Task<bool> ApplyAsync(NpgsqlDataSource dataSource, string schema, ILogger logger, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        var type = await SchemaUpgrades.ScalarAsync<string?>(connection,
            "select data_type from information_schema.columns where table_schema = @schema and table_name = 'mt_doc_instancelocation' and column_name = 'mt_version'",
            cancellation, ("schema", schema));
        if (type is not "bigint")
        {
            return false;
        }

        logger.LogWarning("Upgrading {Schema}.mt_doc_instancelocation: version column from bigint to uuid (rewrites the table)", schema);
        await SchemaUpgrades.ExecuteAsync(connection,
            $"alter table {schema}.mt_doc_instancelocation alter column mt_version drop default, " +
            $"alter column mt_version type uuid using {RandomVersion}, alter column mt_version set default {RandomVersion}", cancellation);
        return true;
    }
}
