using System.Diagnostics;
using System.Text.Json;
using EventSourced.Projections.StudyFeed;
using JasperFx.Events.Projections;
using Marten;
using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>One cell where a live read model and its rebuild from the log disagree.</summary>
public sealed record ReadModelDifference(string Table, string Key, string Column, string? Live, string? Rebuilt)
{
    public override string ToString() => $"{Table} [{Key}] {Column}: live {Live ?? "(none)"} | rebuilt {Rebuilt ?? "(none)"}";
}

/// <summary>What <see cref="ProjectionVerifier.VerifyAsync"/> compared and found.</summary>
public sealed record ProjectionVerification(
    IReadOnlyList<string> Tables, long Events, IReadOnlyDictionary<string, long> RebuiltRows, IReadOnlyList<ReadModelDifference> Differences, TimeSpan Elapsed);

/// <summary>
/// "Rebuild equals live": every projection that keeps a read model (inline and asynchronous) is rebuilt
/// from a snapshot of the event log into a scratch schema, by a second document store configured by the
/// same <see cref="EventStoreSetup.ConfigureEventStore"/> as the live one, and compared with the live
/// read models as of the same snapshot, row by row and column by column (docs/architecture.md,
/// "Rebuild equals live"). The live schema is only read; the scratch schema is dropped afterwards.
/// </summary>
public static class ProjectionVerifier
{
    /// <summary>Marten's bookkeeping columns: when and by which session a row was written, not what it says.</summary>
    private static readonly string[] Bookkeeping = ["mt_last_modified", "mt_version", "mt_created_at"];

    /// <summary>The event store's own tables, copied from the live schema into the scratch one.</summary>
    private static readonly string[] LogTables = ["mt_streams", "mt_events"];

    private const int ShownValueLength = 300;

    /// <summary>
    /// Rebuilds and compares. The snapshot waits (up to <paramref name="catchUp"/>) until the live async
    /// daemon has projected every event of the log; a daemon still behind then is reported as a difference
    /// of its projection (table <c>async progress</c>), not silently compared with a shorter rebuild.
    /// </summary>
    public static async Task<ProjectionVerification> VerifyAsync(
        NpgsqlDataSource dataSource, EventStoreOptions live, TimeSpan catchUp, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var scratch = $"{live.Schema}_verify_{Guid.NewGuid():N}"[..Math.Min(63, live.Schema.Length + 40)];
        var options = new StoreOptions().ConfigureEventStore(dataSource, scratch, live, new StudyFeedSignal());
        var projections = options.Projections.All.Where(p => p.Lifecycle != ProjectionLifecycle.Live).ToList();

        await using var store = new DocumentStore(options);
        try
        {
            await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            var tables = projections
                .SelectMany(p => p.PublishedTypes())
                .Select(t => store.Options.Storage.FindFeature(t).Objects.OfType<Weasel.Postgresql.Tables.Table>().First().Identifier.Name)
                .Distinct()
                .Order(StringComparer.Ordinal)
                .ToList();
            var asyncShards = projections
                .Where(p => p.Lifecycle == ProjectionLifecycle.Async)
                .SelectMany(p => p.Shards())
                .Select(s => s.Name.Identity)
                .ToList();

            var (events, lagging) = await SnapshotAsync(dataSource, live.Schema, scratch, tables, asyncShards, catchUp, cancellation);
            if (lagging.Count > 0)
            {
                return new ProjectionVerification(tables, events, new Dictionary<string, long>(), lagging, clock.Elapsed);
            }

            using (var daemon = await store.BuildProjectionDaemonAsync())
            {
                foreach (var name in projections.SelectMany(p => p.Shards()).Select(s => s.Name.Name).Distinct())
                {
                    await daemon.RebuildProjectionAsync(name, TimeSpan.FromMinutes(10), cancellation);
                }
            }

            var differences = new List<ReadModelDifference>();
            var rows = new Dictionary<string, long>();
            foreach (var table in tables)
            {
                differences.AddRange(await CompareAsync(dataSource, scratch, table, cancellation));
                await using var count = dataSource.CreateCommand($"select count(*) from \"{scratch}\".{table}");
                rows[table] = (long)(await count.ExecuteScalarAsync(cancellation))!;
            }

            return new ProjectionVerification(tables, events, rows, differences, clock.Elapsed);
        }
        finally
        {
            await using var drop = dataSource.CreateCommand($"drop schema if exists \"{scratch}\" cascade");
            await drop.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// In one repeatable-read transaction (one consistent view of the live schema): the log goes into the
    /// scratch event tables, each live read model into <c>live_&lt;table&gt;</c> next to its rebuild.
    /// </summary>
    private static async Task<(long Events, List<ReadModelDifference> Lagging)> SnapshotAsync(
        NpgsqlDataSource dataSource, string live, string scratch, IReadOnlyList<string> tables, IReadOnlyList<string> asyncShards,
        TimeSpan catchUp, CancellationToken cancellation)
    {
        var deadline = DateTime.UtcNow + catchUp;
        while (true)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellation);
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellation);
            var (events, highest) = await ScalarsAsync(connection, $"select count(*), coalesce(max(seq_id), 0) from \"{live}\".mt_events", cancellation);
            var lagging = new List<ReadModelDifference>();
            foreach (var shard in asyncShards)
            {
                await using var progress = new NpgsqlCommand($"select last_seq_id from \"{live}\".mt_event_progression where name = @name", connection);
                progress.Parameters.AddWithValue("name", shard);
                var reached = await progress.ExecuteScalarAsync(cancellation) is long seq ? seq : 0;
                if (reached < highest)
                {
                    lagging.Add(new ReadModelDifference("async progress", shard, "last_seq_id", reached.ToString(), highest.ToString()));
                }
            }

            if (lagging.Count > 0)
            {
                await transaction.RollbackAsync(cancellation);
                if (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(200, cancellation);
                    continue;
                }

                return (events, lagging);
            }

            foreach (var table in LogTables)
            {
                var columns = string.Join(", ", (await ColumnsAsync(connection, live, table, cancellation)).Select(c => $"\"{c}\""));
                await ExecuteAsync(connection, $"insert into \"{scratch}\".{table} ({columns}) select {columns} from \"{live}\".{table}", cancellation);
            }

            await ExecuteAsync(connection, $"select setval('\"{scratch}\".mt_events_sequence', {Math.Max(1, highest)})", cancellation);
            foreach (var table in tables)
            {
                await ExecuteAsync(connection, $"create table \"{scratch}\".\"live_{table}\" as select * from \"{live}\".{table}", cancellation);
            }

            await transaction.CommitAsync(cancellation);
            return (events, lagging);
        }
    }

    /// <summary>The rows of one table that differ (bookkeeping columns aside), matched on its primary key; each differing column once.</summary>
    private static async Task<List<ReadModelDifference>> CompareAsync(NpgsqlDataSource dataSource, string scratch, string table, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        var keys = await PrimaryKeyAsync(connection, scratch, table, cancellation);
        var ignored = "'{" + string.Join(",", Bookkeeping) + "}'::text[]";
        var join = string.Join(" and ", keys.Select(k => $"l.\"{k}\" = r.\"{k}\""));
        var key = string.Join(" || ' ' || ", keys.Select(k => $"coalesce(l.\"{k}\", r.\"{k}\")::text"));
        await using var command = new NpgsqlCommand(
            $"""
            select {key}, case when l."{keys[0]}" is null then null else to_jsonb(l) - {ignored} end,
                   case when r."{keys[0]}" is null then null else to_jsonb(r) - {ignored} end
            from "{scratch}"."live_{table}" l full join "{scratch}".{table} r on {join}
            where l."{keys[0]}" is null or r."{keys[0]}" is null or (to_jsonb(l) - {ignored}) <> (to_jsonb(r) - {ignored})
            order by 1
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        var differences = new List<ReadModelDifference>();
        while (await reader.ReadAsync(cancellation))
        {
            var rowKey = reader.GetString(0);
            var liveRow = reader.IsDBNull(1) ? default(JsonElement?) : JsonDocument.Parse(reader.GetString(1), Dicom.DicomJsonWriter.DocumentOptions).RootElement;
            var rebuiltRow = reader.IsDBNull(2) ? default(JsonElement?) : JsonDocument.Parse(reader.GetString(2), Dicom.DicomJsonWriter.DocumentOptions).RootElement;
            if (liveRow is null || rebuiltRow is null)
            {
                differences.Add(new ReadModelDifference(table, rowKey, "(row)", Show(liveRow), Show(rebuiltRow)));
                continue;
            }

            foreach (var (column, liveValue, rebuiltValue) in DifferingMembers(liveRow.Value, rebuiltRow.Value, ""))
            {
                differences.Add(new ReadModelDifference(table, rowKey, column, liveValue, rebuiltValue));
            }
        }

        return differences;
    }

    /// <summary>Columns that differ; inside the <c>data</c> document, its top-level members (<c>data.PatientName</c>).</summary>
    private static IEnumerable<(string Column, string? Live, string? Rebuilt)> DifferingMembers(JsonElement live, JsonElement rebuilt, string prefix)
    {
        var names = live.EnumerateObject().Select(p => p.Name).Union(rebuilt.EnumerateObject().Select(p => p.Name)).Order(StringComparer.Ordinal);
        foreach (var name in names)
        {
            JsonElement? l = live.TryGetProperty(name, out var lv) ? lv : default(JsonElement?);
            JsonElement? r = rebuilt.TryGetProperty(name, out var rv) ? rv : default(JsonElement?);
            if (l is { } a && r is { } b && (JsonElement.DeepEquals(a, b) || SameJsonText(a, b)))
            {
                continue;
            }

            if (prefix.Length == 0 && name == "data" && l is { ValueKind: JsonValueKind.Object } ld && r is { ValueKind: JsonValueKind.Object } rd)
            {
                foreach (var member in DifferingMembers(ld, rd, "data."))
                {
                    yield return member;
                }

                continue;
            }

            yield return (prefix + name, Show(l), Show(r));
        }
    }

    /// <summary>
    /// Two strings that hold the same JSON value: an instance record's header is stored as its JSON text, and a record
    /// projected from an event written with the header as an object holds PostgreSQL's rendering of it (a space after
    /// each colon and comma) where the live one holds the text as received. The same header either way.
    /// </summary>
    private static bool SameJsonText(JsonElement live, JsonElement rebuilt)
    {
        if (live.ValueKind != JsonValueKind.String || rebuilt.ValueKind != JsonValueKind.String
            || live.GetString() is not ['{', ..] liveText || rebuilt.GetString() is not ['{', ..] rebuiltText)
        {
            return false;
        }

        try
        {
            using var l = JsonDocument.Parse(liveText, Dicom.DicomJsonWriter.DocumentOptions);
            using var r = JsonDocument.Parse(rebuiltText, Dicom.DicomJsonWriter.DocumentOptions);
            return JsonElement.DeepEquals(l.RootElement, r.RootElement);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string? Show(JsonElement? value)
    {
        if (value is not { } v)
        {
            return null;
        }

        var text = v.GetRawText();
        return text.Length <= ShownValueLength ? text : text[..ShownValueLength] + "…";
    }

    private static async Task<List<string>> PrimaryKeyAsync(NpgsqlConnection connection, string schema, string table, CancellationToken cancellation)
    {
        var keys = await NamesAsync(connection, schema, table,
            """
            select a.attname::text from pg_index i
            join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
            where i.indrelid = (quote_ident(@schema) || '.' || quote_ident(@table))::regclass and i.indisprimary
            order by array_position(i.indkey, a.attnum)
            """, cancellation);
        return keys.Count > 0 ? keys : throw new InvalidOperationException($"{schema}.{table} has no primary key to match rows on.");
    }

    private static Task<List<string>> ColumnsAsync(NpgsqlConnection connection, string schema, string table, CancellationToken cancellation) =>
        NamesAsync(connection, schema, table,
            "select column_name::text from information_schema.columns where table_schema = @schema and table_name = @table order by ordinal_position",
            cancellation);

    /// <summary>The first column of <paramref name="sql"/>'s rows, given <c>@schema</c> and <c>@table</c>.</summary>
    private static async Task<List<string>> NamesAsync(NpgsqlConnection connection, string schema, string table, string sql, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("schema", schema);
        command.Parameters.AddWithValue("table", table);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private static async Task<(long, long)> ScalarsAsync(NpgsqlConnection connection, string sql, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        await reader.ReadAsync(cancellation);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellation);
    }
}
