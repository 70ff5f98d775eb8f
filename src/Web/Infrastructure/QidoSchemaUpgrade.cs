using EventSourced.Projections.Qido;
using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Brings a QIDO study table created before its list-valued keys became <c>text[]</c> columns (station
/// names, modalities in study, calling AE titles), before the person-name indexes, or with the GIN index
/// over its whole document (dropped: nothing matches on it now), and an instance table from before its
/// Container Identifier column, up to date, before Marten compares the schema. Marten would add the
/// columns itself, but as one statement that rewrites every study row and builds the indexes inside its
/// migration's command timeout (30 s): on an archive of a million
/// instances under load that timed out and stopped the start-up. Here the columns are added empty, filled
/// in batches of <see cref="BatchSize"/> rows in key order (each batch its own short transaction: a stop
/// half-way resumes where it was), and the indexes built with no time limit, with the very definitions
/// Marten generates (QidoRegistration), so Marten then finds nothing to change. A database without the
/// table (a new one) or already upgraded costs one catalogue query.
/// </summary>
public static class QidoSchemaUpgrade
{
    public const int BatchSize = 5000;

    /// <summary>The columns, each filled from the document's JSON array of the same member.</summary>
    private static readonly (string Column, string Member)[] ListColumns =
    [
        ("station_names", nameof(QidoStudy.StationNames)),
        ("modalities_in_study", nameof(QidoStudy.ModalitiesInStudy)),
        ("calling_ae_titles", nameof(QidoStudy.CallingAeTitles)),
    ];

    /// <summary>The index over the whole document that earlier versions declared (jsonb containment for the PACS study count's lists).</summary>
    public const string DocumentIndex = "mt_doc_qidostudy_idx_data";

    /// <summary>The indexes Marten declares for the study table (QidoRegistration), each by name with the DDL Marten writes for it.</summary>
    private static (string Name, string Definition)[] Indexes(string table) =>
    [
        ("mt_doc_qidostudy_idx_station_names", $"ON {table} USING gin (station_names)"),
        ("mt_doc_qidostudy_idx_modalities_in_study", $"ON {table} USING gin (modalities_in_study)"),
        ("mt_doc_qidostudy_idx_calling_ae_titles", $"ON {table} USING gin (calling_ae_titles)"),
        (QidoRegistration.PatientNameUpperIndex, $"ON {table} USING btree (upper((patient_name)) text_pattern_ops)"),
        (QidoRegistration.PatientNameFuzzyTrigramIndex, $"ON {table} USING gin ((patient_name_fuzzy) gin_trgm_ops)"),
    ];

    /// <summary>The bookkeeping columns the instance records had before they were declared without them (QidoRegistration).</summary>
    private static readonly string[] InstanceBookkeeping = ["mt_last_modified", "mt_version"];

    /// <summary>Upgrades <c>{schema}.mt_doc_qidostudy</c> and <c>{schema}.mt_doc_qidoinstance</c> if they exist and need it; returns the study rows filled.</summary>
    public static async Task<long> ApplyAsync(NpgsqlDataSource dataSource, string schema, ILogger logger, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await InstanceColumnsAsync(connection, schema, logger, cancellation);
        await InstanceContainerAsync(connection, schema, logger, cancellation);
        return await StudyAsync(connection, schema, logger, cancellation);
    }

    /// <summary>
    /// Gives instance records written before it their Container Identifier column: added empty, filled from each header's
    /// (0040,0512) in batches (only the rows that carry one are written, their documents given the member), then its partial index built with no time limit.
    /// Until then a slide was looked up by a containment match over every record's header: a scan of the archive.
    /// </summary>
    private static async Task InstanceContainerAsync(NpgsqlConnection connection, string schema, ILogger logger, CancellationToken cancellation)
    {
        var table = $"{schema}.mt_doc_qidoinstance";
        var column = QidoRegistration.ContainerIdentifierColumn;
        if (await SchemaUpgrades.ScalarAsync<bool>(connection, $"select to_regclass('{table}') is null", cancellation)
            || await SchemaUpgrades.ColumnsPresentAsync(connection, schema, "mt_doc_qidoinstance", [column], cancellation) > 0)
        {
            return;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        logger.LogWarning("Upgrading {Table}: the Container Identifier column, filled from the headers", table);
        await SchemaUpgrades.ExecuteAsync(connection, $"alter table {table} add column if not exists {column} varchar NULL", cancellation);
        var value = $"{QidoInstance.HeaderJson("d")} -> '{Domain.Common.Tags.ContainerIdentifier}' -> 'Value' ->> 0";
        // The document gets the member too, as the projection writes it (a rebuild gives the same record).
        var trimmed = $"nullif(btrim({value}), '')";
        var filled = await SchemaUpgrades.FillAsync(connection, table,
            $"{column} = {trimmed}, data = d.data || jsonb_build_object('{nameof(QidoInstance.ContainerIdentifier)}', {trimmed})",
            $"d.{column} is null and {trimmed} is not null", cancellation);
        await SchemaUpgrades.ExecuteAsync(connection,
            $"CREATE INDEX IF NOT EXISTS {QidoRegistration.ContainerIdentifierIndex} ON {table} USING btree ({column}) WHERE ({QidoRegistration.ContainerIdentifierPredicate})", cancellation);
        logger.LogWarning("Upgraded {Table}: {Rows} rows given their Container Identifier in {Seconds:0.0} s", table, filled, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Drops the instance records' version and timestamp columns: a catalogue change, no rewrite (the bytes of
    /// existing rows are given back as the rows are rewritten). Marten then replaces the upsert function.
    /// </summary>
    private static async Task InstanceColumnsAsync(NpgsqlConnection connection, string schema, ILogger logger, CancellationToken cancellation)
    {
        var present = await SchemaUpgrades.ColumnsPresentAsync(connection, schema, "mt_doc_qidoinstance", InstanceBookkeeping, cancellation);
        if (present == 0)
        {
            return;
        }

        logger.LogWarning("Upgrading {Schema}.mt_doc_qidoinstance: no version or timestamp columns", schema);
        await SchemaUpgrades.ExecuteAsync(connection,
            $"alter table {schema}.mt_doc_qidoinstance {string.Join(", ", InstanceBookkeeping.Select(c => $"drop column if exists {c}"))}", cancellation);
    }

    private static async Task<long> StudyAsync(NpgsqlConnection connection, string schema, ILogger logger, CancellationToken cancellation)
    {
        var table = $"{schema}.mt_doc_qidostudy";
        if (await SchemaUpgrades.ScalarAsync<bool>(connection, $"select to_regclass('{table}') is null", cancellation))
        {
            return 0;
        }

        var missing = ListColumns.Length - await SchemaUpgrades.ColumnsPresentAsync(connection, schema, "mt_doc_qidostudy", [.. ListColumns.Select(c => c.Column)], cancellation);

        var indexes = Indexes(table);
        var present = await SchemaUpgrades.ScalarAsync<long>(connection,
            $"select count(*) from pg_indexes where schemaname = '{schema}' and tablename = 'mt_doc_qidostudy' and indexname = any(@names)", cancellation,
            ("names", indexes.Select(i => i.Name).ToArray()));
        var documentIndex = await SchemaUpgrades.ScalarAsync<long>(connection,
            $"select count(*) from pg_indexes where schemaname = '{schema}' and tablename = 'mt_doc_qidostudy' and indexname = '{DocumentIndex}'", cancellation);
        if (missing == 0 && present == indexes.Length && documentIndex == 0)
        {
            return 0;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        logger.LogWarning("Upgrading {Table}: list-valued keys to text[] columns, person-name indexes, no index over the document", table);
        await SchemaUpgrades.ExecuteAsync(connection, "CREATE EXTENSION IF NOT EXISTS pg_trgm", cancellation);
        foreach (var (column, _) in ListColumns)
        {
            await SchemaUpgrades.ExecuteAsync(connection, $"alter table {table} add column if not exists {column} text[] NULL", cancellation);
        }

        // Key order in batches; a row written meanwhile by the new code already has its arrays.
        var fill = string.Join(", ", ListColumns.Select(c => $"{c.Column} = array(select jsonb_array_elements_text(d.data -> '{c.Member}'))"));
        var unfilled = string.Join(" or ", ListColumns.Select(c => $"d.{c.Column} is null"));
        var filled = await SchemaUpgrades.FillAsync(connection, table, fill, unfilled, cancellation);

        foreach (var (name, definition) in indexes)
        {
            await SchemaUpgrades.ExecuteAsync(connection, $"CREATE INDEX IF NOT EXISTS {name} {definition}", cancellation);
        }

        await SchemaUpgrades.ExecuteAsync(connection, $"DROP INDEX IF EXISTS {schema}.{DocumentIndex}", cancellation);
        await SchemaUpgrades.ExecuteAsync(connection, $"analyze {table}", cancellation);
        logger.LogWarning("Upgraded {Table}: {Rows} rows filled in {Seconds:0.0} s", table, filled, clock.Elapsed.TotalSeconds);
        return filled;
    }
}
