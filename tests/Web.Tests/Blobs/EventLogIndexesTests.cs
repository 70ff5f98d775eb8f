using EventSourced.Application.Blobs;
using EventSourced.Application.Patients.ErasingPatient;
using EventSourced.Application.Studies.RelocatingStudy;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Tenants;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Infrastructure.Blobs;
using EventSourced.Web.Tests.Support;
using Marten;
using Marten.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventSourced.Web.Tests.Blobs;

/// <summary>
/// "Which events name this blob", asked by the sweeper, a patient's erasure and a study's relocation, is answered
/// through the index of the names (docs/benchmarks.md, "Queries that grew with the archive", items 1–3): each
/// statement planned on a copy of the event table grown to 20,000 events, where without the index every event's data
/// is read for every hash. The index is ours on a table Marten manages: Marten's schema check and migration leave it,
/// and one left invalid by a stopped build is built again.
/// </summary>
public sealed class EventLogIndexesTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Events = "eventsourced.mt_events";
    private const string IndexedExpression = "jsonb_path_query_array(data, 'strict $.**.\"Sha256\"'::jsonpath";

    private NpgsqlDataSource DataSource => fixture.App.Services.GetRequiredService<NpgsqlDataSource>();

    [Fact]
    public async Task The_sweepers_authority_is_served_by_the_index()
    {
        var plan = await PlanOnGrownCopyAsync(OrphanBlobSweeper.NamedByAnyEventSql(Grown),
            ("shas", new[] { Hash(7), Hash(8) }), ("purged", "deleted_content_purged"));
        QueryPlans.AssertServedByIndexOn(plan, IndexedExpression);
    }

    [Fact]
    public async Task An_erasures_check_of_the_old_blobs_is_served_by_the_index()
    {
        var plan = await PlanOnGrownCopyAsync(ErasePatientHandler.StillNamedSql(Grown),
            ("shas", new[] { Hash(7), Hash(8) }), ("tenant", "t"), ("streams", new[] { Guid.NewGuid() }),
            ("earlier_streams", Array.Empty<Guid>()), ("earlier_seqs", Array.Empty<long>()));
        QueryPlans.AssertServedByIndexOn(plan, IndexedExpression);
    }

    [Fact]
    public async Task A_relocations_shared_blobs_check_is_served_by_the_index()
    {
        // Marten's positional parameters, named for the plan.
        var sql = RelocateStudyHandler.SharedSql(Grown);
        var first = sql.IndexOf('?');
        sql = sql[..first] + "@shas" + sql[(first + 1)..];
        sql = sql.Replace("?", "@self");
        var plan = await PlanOnGrownCopyAsync(sql, ("shas", new[] { Hash(7), Hash(8) }), ("self", Guid.NewGuid()));
        QueryPlans.AssertServedByIndexOn(plan, IndexedExpression);
    }

    [Fact]
    public async Task Martens_schema_keeps_the_indexes_and_one_left_invalid_or_dropped_is_built_again()
    {
        Assert.True(await EventLogIndexes.ApplyAsync(DataSource, "eventsourced", NullLogger.Instance, CancellationToken.None));
        Assert.Equal(["true", "true"], await ValidityAsync());

        // Marten's check and migration know the indexes as not theirs: no difference found, nothing dropped.
        await fixture.App.Store.Storage.Database.AssertDatabaseMatchesConfigurationAsync();
        await fixture.App.Store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        Assert.Equal(["true", "true"], await ValidityAsync());

        // A build that stopped half-way leaves an index invalid (PostgreSQL never reads it), and a database restored
        // without one lacks it: the next start builds each again, with its definition, and it is read.
        await SqlCommands.ScalarTextAsync(fixture.ConnectionString, $"update pg_index set indisvalid = false where indexrelid = 'eventsourced.{EventBlobNames.IndexName}'::regclass");
        await SqlCommands.ScalarTextAsync(fixture.ConnectionString, $"drop index eventsourced.{EventLogIndexes.ReadByTypeIndexName}");
        Assert.Equal(["false", "none"], await ValidityAsync());
        Assert.True(await EventLogIndexes.ApplyAsync(DataSource, "eventsourced", NullLogger.Instance, CancellationToken.None));
        Assert.Equal(["true", "true"], await ValidityAsync());
        Assert.Contains("jsonb_path_ops", await SqlCommands.ScalarTextAsync(fixture.ConnectionString, $"select pg_get_indexdef('eventsourced.{EventBlobNames.IndexName}'::regclass)"));
        Assert.Contains("'patient_erased'", await SqlCommands.ScalarTextAsync(fixture.ConnectionString, $"select pg_get_indexdef('eventsourced.{EventLogIndexes.ReadByTypeIndexName}'::regclass)"));
    }

    [Fact]
    public async Task The_event_types_read_by_type_are_read_through_the_partial_index()
    {
        await using var session = fixture.App.Store.QuerySession("t");
        // PatientErasureModule's list, ErasePatient's earlier erasures, ClientsAndUsers' username check.
        var erasures = session.Events.QueryRawEventDataOnly<PatientErased>().OrderBy(e => e.ErasedAt);
        var earlier = session.Events.QueryAllRawEvents().Where(e => e.EventTypeName == "patient_erased" || e.EventTypeName == "instance_erased");
        var users = session.Events.QueryRawEventDataOnly<ArchiveUserRegistered>().Where(e => e.Username == "someone");

        foreach (var statement in new[] { erasures.ToCommand(FetchType.FetchMany), earlier.ToCommand(FetchType.FetchMany), users.ToCommand(FetchType.FetchMany) })
        {
            var sql = statement.CommandText.Replace($" {Events} as d", $" {Grown} as d", StringComparison.Ordinal);
            Assert.Contains(Grown, sql);
            var plan = await PlanOnGrownCopyAsync(sql, [.. statement.Parameters.Select(p => (p.ParameterName, p.Value!))]);
            Assert.DoesNotContain("Seq Scan", plan);
            Assert.Contains("type", string.Concat(plan.Split('\n').Where(line => line.Contains("Index Cond", StringComparison.Ordinal))));
        }
    }

    /// <summary>Each of <see cref="EventLogIndexes.All"/>: "true" (valid), "false" (left invalid) or "none".</summary>
    private async Task<string[]> ValidityAsync() =>
        [.. await Task.WhenAll(EventLogIndexes.All.Select(async index => await SqlCommands.ScalarTextAsync(fixture.ConnectionString, 
            $"select coalesce((select i.indisvalid::text from pg_index i where i.indexrelid = to_regclass('eventsourced.{index.Name}')), 'none')") ?? "none"))];

    /// <summary>The temporary copy's name in the statements.</summary>
    private const string Grown = "pg_temp.grown";

    /// <summary>A 64-digit hex hash for a row number, as SQL computes it (<c>md5(n) || md5(n)</c>).</summary>
    private static string Hash(int n)
    {
        var md5 = Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.ASCII.GetBytes(n.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        return md5 + md5;
    }

    /// <summary>
    /// The plan of <paramref name="sql"/> over a temporary copy of the event table (its columns and indexes, the names'
    /// index among them) holding 20,000 events of one tenant, each naming its own blob, in 2,000 streams: stored instances
    /// but for one erasure and one user registration in 5,000.
    /// </summary>
    private async Task<string> PlanOnGrownCopyAsync(string sql, params (string Name, object Value)[] parameters)
    {
        Assert.True(await EventLogIndexes.ApplyAsync(DataSource, "eventsourced", NullLogger.Instance, CancellationToken.None));
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using (var grow = new NpgsqlCommand(
            $"""
            create temp table grown (like {Events} including defaults including indexes);
            insert into grown (seq_id, id, stream_id, version, data, type, tenant_id)
            select n, gen_random_uuid(), md5((n % 2000)::text)::uuid, n, jsonb_build_object('Instance', jsonb_build_object('Blob', jsonb_build_object('Sha256', md5(n::text) || md5(n::text)))),
              case when n % 5000 = 0 then 'patient_erased' when n % 5000 = 1 then 'archive_user_registered' else 'instance_stored' end, 't'
            from generate_series(1, 20000) as n;
            analyze grown;
            """, connection))
        {
            await grow.ExecuteNonQueryAsync();
        }

        Assert.Contains("jsonb_path_ops", await new NpgsqlCommand(
            $"select string_agg(indexdef, ' ') from pg_indexes where tablename = 'grown'", connection).ExecuteScalarAsync() as string);
        return await QueryPlans.ExplainAsync(connection, sql, parameters.Select(p => new NpgsqlParameter(p.Name, p.Value)));
    }
}
