using EventSourced.Projections.Qido;
using Npgsql;

namespace EventSourced.Web.Infrastructure;

/// <summary>
/// Brings <c>mt_doc_qidoinstance</c> rows written when the document held a copy of the instance's DICOM JSON
/// (<c>Header</c>) to the shape that names the event holding it instead (<see cref="QidoInstance.HeaderEvent"/>,
/// <see cref="QidoInstance.HeaderPath"/>), when the host starts, before Marten compares the schema. The event
/// is the one that wrote the row: of the study stream's events that carry the instance (stored, replaced,
/// erased, or a child of a revoke, a restore or a series moving in), the last. That is the rule
/// <c>InstanceRecordsProjection</c> follows, so the rows are the ones a rebuild writes (tested:
/// <c>projections verify</c> on an upgraded database). Done in batches of whole studies in key order (one
/// short transaction each: a stop half-way resumes; a batch reads only its studies' events). A database
/// without old rows costs two reads by index (the first and the last study in key order).
/// </summary>
public static class QidoInstanceHeaderUpgrade
{
    private const int StudiesPerBatch = 200;

    /// <summary>Upgrades the rows that need it; returns how many were rewritten.</summary>
    public static async Task<long> ApplyAsync(NpgsqlDataSource dataSource, string schema, ILogger logger, CancellationToken cancellation)
    {
        var table = $"\"{schema}\".mt_doc_qidoinstance";
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);

        // The records name events by id: the unique index Marten declares for it (EnableUniqueIndexOnEventId), built
        // here without a time limit on an existing log (Marten's own migration would run it under its timeout).
        if (!await SchemaUpgrades.ScalarAsync<bool>(connection, $"select to_regclass('\"{schema}\".mt_events') is null", cancellation))
        {
            await SchemaUpgrades.ExecuteAsync(connection, $"create unique index if not exists idx_mt_events_event_id on \"{schema}\".mt_events using btree (id)", cancellation);
        }

        if (await SchemaUpgrades.ScalarAsync<bool>(connection, $"select to_regclass('{table}') is null", cancellation)
            || !await SchemaUpgrades.ScalarAsync<bool>(connection,
                $"select coalesce((select data ? 'Header' from {table} order by study_key limit 1), false) "
                + $"or coalesce((select data ? 'Header' from {table} order by study_key desc limit 1), false)", cancellation))
        {
            return 0;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        logger.LogWarning("Upgrading {Table}: instance headers read from their events instead of a copy", table);
        var events = $"\"{schema}\".mt_events";
        var rewritten = 0L;
        var last = Guid.Empty;
        while (true)
        {
            var studies = new List<Guid>();
            await using (var next = new NpgsqlCommand(
                $"select distinct study_key from {table} where study_key > @last order by study_key limit {StudiesPerBatch}", connection) { CommandTimeout = 0 })
            {
                next.Parameters.AddWithValue("last", last);
                await using var reader = await next.ExecuteReaderAsync(cancellation);
                while (await reader.ReadAsync(cancellation))
                {
                    studies.Add(reader.GetGuid(0));
                }
            }

            if (studies.Count == 0)
            {
                break;
            }

            // Every instance each event of the batch's studies carries, then the last per instance.
            await using var update = new NpgsqlCommand($$"""
                with carried as (
                    select e.tenant_id, e.stream_id, e.data -> 'Instance' ->> 'SopInstanceUid' as sop, e.seq_id as seq, e.id as event, null::text as path, 0::bigint as n
                    from {{events}} e
                    where e.stream_id = any(@studies) and e.type in ('instance_stored', 'instance_replaced', 'instance_erased')
                    union all
                    select e.tenant_id, e.stream_id, a.x -> 'Instance' ->> 'SopInstanceUid', e.seq_id, e.id, '{' || m.member || ',' || (a.n - 1) || ',Instance,Header}', a.n
                    from {{events}} e
                    cross join lateral (values ('Restored'), ('Arrived')) as m(member)
                    cross join lateral jsonb_array_elements(e.data -> m.member) with ordinality as a(x, n)
                    where e.stream_id = any(@studies) and e.type in ('study_deprecation_revoked', 'deleted_content_restored', 'series_refiled_in')
                ), latest as (
                    select distinct on (tenant_id, stream_id, sop) tenant_id, stream_id, sop, event, path
                    from carried order by tenant_id, stream_id, sop, seq desc, n desc
                )
                update {{table}} d
                set data = (d.data - 'Header') || jsonb_strip_nulls(jsonb_build_object('HeaderEvent', l.event, 'HeaderPath', l.path))
                from latest l
                where d.study_key = any(@studies) and d.data ? 'Header'
                  and l.tenant_id = d.tenant_id and l.stream_id = d.study_key and l.sop = d.sop_instance_uid
                """, connection) { CommandTimeout = 0 };
            update.Parameters.AddWithValue("studies", studies.ToArray());
            rewritten += await update.ExecuteNonQueryAsync(cancellation);
            last = studies[^1];
        }

        var left = await SchemaUpgrades.ScalarAsync<long>(connection, $"select count(*) from {table} where data ? 'Header'", cancellation);
        if (left > 0)
        {
            logger.LogError("{Table}: {Rows} rows name no event of their study carrying their instance and keep their header copy; rebuild the projection (eng/projections.sh --rebuild)", table, left);
        }

        logger.LogWarning("Upgraded {Table}: {Rows} rows in {Seconds:0.0} s", table, rewritten, clock.Elapsed.TotalSeconds);
        return rewritten;
    }
}
