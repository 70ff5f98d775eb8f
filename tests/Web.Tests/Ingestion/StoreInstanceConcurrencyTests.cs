using System.Text.Json;
using EventSourced.Application.Ingestion.StoringInstances;
using EventSourced.Domain.Common;
using EventSourced.Domain.Orders;
using EventSourced.Domain.Patients;
using EventSourced.Domain.Studies;
using EventSourced.Projections.Patients;
using EventSourced.Web.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Wolverine;

namespace EventSourced.Web.Tests.Ingestion;

/// <summary>
/// Many instances of one study, or new studies of one patient, stored at once, on a real PostgreSQL: every one is
/// stored, none refused; and what one command's fetch of its streams (the study's and its order register's in one
/// round trip, a new study's patient locked after them) and its per-request multi-row writes leave behind.
/// </summary>
public sealed class StoreInstanceConcurrencyTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "ingest-tests";

    private static StoredInstance Instance(string study, string sop, string sha) => new(
        study, study + ".1", sop, "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1",
        JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["00080018"] = new { vr = "UI", Value = new[] { sop } } }),
        new BlobRef(sha, sha[..40], 1000), IngestChannel.StowRs, "CT1", null);

    private async Task<InstanceStoreResult> Store(StoredInstance instance) =>
        (await fixture.App.Services.GetRequiredService<IMessageBus>().InvokeForTenantAsync<StoreInstancesResponse>(
            Tenant, new StoreInstances([instance], new Actor("modality", "tests")), CancellationToken.None, TimeSpan.FromSeconds(60))).Results.Single();

    [Fact]
    public async Task Eight_clients_storing_instances_of_one_new_study_at_once_all_succeed()
    {
        var study = Support.Orders.NewStudyUid();
        var results = await Task.WhenAll(Enumerable.Range(1, 8).Select(i =>
            Store(Instance(study, $"{study}.1.{i}", new string("0123456789abcdef"[i + 7], 64)))));

        Assert.All(results, r => Assert.Equal(StoreOutcome.Stored, r.Outcome));
        await using var session = fixture.App.Store.QuerySession(Tenant);
        var events = await session.Events.FetchStreamAsync(Study.StreamId(Tenant, study));
        Assert.Equal(8, events.Count);
        Assert.Equal(8, events.Select(e => ((InstanceStored)e.Data).Instance.SopInstanceUid).Distinct().Count());
    }

    [Fact]
    public async Task One_command_stores_a_batch_deciding_each_instance_against_the_ones_before_it()
    {
        var study = Support.Orders.NewStudyUid();
        var first = Instance(study, $"{study}.1.1", new string('1', 64));
        var again = Instance(study, $"{study}.1.1", new string('1', 64));
        var other = Instance(study, $"{study}.1.2", new string('2', 64));

        var response = await fixture.App.Services.GetRequiredService<IMessageBus>().InvokeForTenantAsync<StoreInstancesResponse>(
            Tenant, new StoreInstances([first, again, other], new Actor("modality", "tests")), CancellationToken.None, TimeSpan.FromSeconds(60));

        Assert.Equal([StoreOutcome.Stored, StoreOutcome.AlreadyStored, StoreOutcome.Stored], response.Results.Select(r => r.Outcome));
        // The two new instances in one event, in the order they came; the repeat appended nothing.
        await using var session = fixture.App.Store.QuerySession(Tenant);
        var batch = Assert.IsType<InstancesStored>(Assert.Single(await session.Events.FetchStreamAsync(Study.StreamId(Tenant, study))).Data);
        Assert.Equal([first.SopInstanceUid, other.SopInstanceUid], batch.Instances.Select(i => i.SopInstanceUid));
    }

    [Fact]
    public async Task The_same_instance_sent_by_eight_clients_at_once_is_stored_once()
    {
        var study = Support.Orders.NewStudyUid();
        var instance = Instance(study, $"{study}.1.1", new string('f', 64));

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Store(instance)));

        Assert.Equal(1, results.Count(r => r.Outcome == StoreOutcome.Stored));
        Assert.Equal(7, results.Count(r => r.Outcome == StoreOutcome.AlreadyStored));
        await using var session = fixture.App.Store.QuerySession(Tenant);
        Assert.Single(await session.Events.FetchStreamAsync(Study.StreamId(Tenant, study)));
    }

    private static StoredInstance Named(StoredInstance instance, string patientId, int number) => instance with
    {
        Header = JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["00080018"] = new { vr = "UI", Value = new[] { instance.SopInstanceUid } },
            ["00100020"] = new { vr = "LO", Value = new[] { patientId } },
            ["00200013"] = new { vr = "IS", Value = new[] { number } },
        }),
    };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Sixteen_new_studies_of_one_patient_stored_at_once_are_all_stored_and_filed_under_it(bool patientKnown)
    {
        // The studies of one examination, or a patient's priors migrated in parallel: each new study is filed under
        // the patient, so all of them append to its stream. Optimistic appends retried each other until some commands
        // ran out of retries (a 503); the patient is locked now and they queue. A new patient is registered once.
        var patientId = "P-" + Guid.NewGuid().ToString("N")[..12];
        var studies = Enumerable.Range(0, 17).Select(_ => Support.Orders.NewStudyUid()).ToList();
        StoredInstance Of(int i) => Named(Instance(studies[i], $"{studies[i]}.1.1", Convert.ToHexString(System.Security.Cryptography.SHA256.HashData([(byte)i, 7])).ToLowerInvariant()), patientId, 1);
        if (patientKnown)
        {
            Assert.Equal(StoreOutcome.Stored, (await Store(Of(16))).Outcome);
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Store(Of(i))));

        Assert.All(results, r => Assert.Equal(StoreOutcome.Stored, r.Outcome));
        var filed = patientKnown ? studies : studies[..16];
        await using var session = fixture.App.Store.QuerySession(Tenant);
        var record = await session.LoadAsync<PatientRecord>(Patient.StreamId(Tenant, null, patientId));
        Assert.Equal(filed.Order(StringComparer.Ordinal), record!.StudyInstanceUids);
        var events = await session.Events.FetchStreamAsync(Patient.StreamId(Tenant, null, patientId));
        Assert.Single(events, e => e.Data is PatientRegistered);
        Assert.Equal(filed.Order(StringComparer.Ordinal), events.Select(e => e.Data).OfType<PatientStudyLinked>().Select(l => l.StudyInstanceUid).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_store_chosen_as_a_deadlock_victim_is_retried_and_stored()
    {
        // A new study of a known patient whose order exists: the store locks the study's order register, then the
        // patient. Another transaction holds the patient's row and then asks for the register: a real deadlock,
        // which PostgreSQL breaks by aborting the store (its deadlock_timeout, 1 s, runs out first: the other
        // session waits 30 s before it checks). The aborted command wrote nothing, so it is retried, not a 503.
        var patientId = "P-" + Guid.NewGuid().ToString("N")[..12];
        var known = Support.Orders.NewStudyUid();
        Assert.Equal(StoreOutcome.Stored, (await Store(Named(Instance(known, $"{known}.1.1", new string('a', 64)), patientId, 1))).Outcome);
        var study = Support.Orders.NewStudyUid();
        var client = await fixture.App.ClientForTenantAsync(Tenant);
        await client.CreateOkAsync(Support.Orders.MandatoryOnly(study));

        await using var other = new NpgsqlConnection(fixture.ConnectionString);
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await Execute(other, "set local deadlock_timeout = '30s'");
        await Execute(other, "select 1 from eventsourced.mt_streams where tenant_id = $1 and id = $2 for update", Tenant, Patient.StreamId(Tenant, null, patientId));

        var store = Store(Named(Instance(study, $"{study}.1.1", new string('b', 64)), patientId, 1));
        // The store waits on the patient's row (a row lock: on the other's transaction), having locked the register,
        // before the other asks for the register.
        await using var probe = new NpgsqlConnection(fixture.ConnectionString);
        await probe.OpenAsync();
        await using var locks = new NpgsqlCommand(
            """
            select count(*) from pg_stat_activity
            where wait_event_type = 'Lock' and wait_event in ('transactionid', 'tuple') and datname = current_database() and pid <> $1
            """, probe);
        locks.Parameters.AddWithValue(other.ProcessID);
        var waiting = false;
        for (var i = 0; i < 200 && !waiting && !store.IsCompleted; i++)
        {
            await Task.Delay(25);
            waiting = (long)(await locks.ExecuteScalarAsync())! > 0;
        }

        Assert.True(waiting, "the store should wait on the patient's row");
        await Execute(other, "select 1 from eventsourced.mt_streams where tenant_id = $1 and id = $2 for update", Tenant, StudyOrderRegister.StreamId(Tenant, study));
        await transaction.CommitAsync();

        Assert.Equal(StoreOutcome.Stored, (await store).Outcome);
        await using var session = fixture.App.Store.QuerySession(Tenant);
        var record = await session.LoadAsync<PatientRecord>(Patient.StreamId(Tenant, null, patientId));
        Assert.Equal(new[] { known, study }.Order(StringComparer.Ordinal), record!.StudyInstanceUids);
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.AddWithValue(parameter);
        }

        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_known_study_whose_next_instance_names_another_patient_is_stored_without_registering_that_patient()
    {
        var study = Support.Orders.NewStudyUid();
        var filedUnder = "P-" + Guid.NewGuid().ToString("N")[..12];
        var namedLater = "P-" + Guid.NewGuid().ToString("N")[..12];

        var first = await Store(Named(Instance(study, $"{study}.1.1", new string('3', 64)), filedUnder, 1));
        var second = await Store(Named(Instance(study, $"{study}.1.2", new string('4', 64)), namedLater, 2));

        Assert.Equal(StoreOutcome.Stored, first.Outcome);
        Assert.Equal(StoreOutcome.Stored, second.Outcome);
        await using var session = fixture.App.Store.QuerySession(Tenant);
        Assert.Null(await session.Events.FetchStreamStateAsync(Patient.StreamId(Tenant, null, namedLater)));
        Assert.Null(await session.LoadAsync<PatientRecord>(Patient.StreamId(Tenant, null, namedLater)));
        var record = await session.LoadAsync<PatientRecord>(Patient.StreamId(Tenant, null, filedUnder));
        Assert.Equal([study], record!.StudyInstanceUids);
        Assert.Equal(2, (await session.Events.FetchStreamAsync(Study.StreamId(Tenant, study))).Count);
    }

    [Fact]
    public async Task One_command_writes_each_instance_record_with_columns_that_match_its_document()
    {
        var study = Support.Orders.NewStudyUid();
        var instances = Enumerable.Range(1, 5)
            .Select(i => Named(Instance(study, $"{study}.{i % 2 + 1}.{i}", new string("56789"[i - 1], 64)), "P-columns", i) with { SeriesInstanceUid = $"{study}.{i % 2 + 1}" })
            .ToList();

        var response = await fixture.App.Services.GetRequiredService<IMessageBus>().InvokeForTenantAsync<StoreInstancesResponse>(
            Tenant, new StoreInstances(instances, new Actor("modality", "tests")), CancellationToken.None, TimeSpan.FromSeconds(60));

        Assert.All(response.Results, r => Assert.Equal(StoreOutcome.Stored, r.Outcome));
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            select count(*) filter (where study_instance_uid = data->>'StudyInstanceUid' and series_instance_uid = data->>'SeriesInstanceUid'
                and sop_instance_uid = data->>'SopInstanceUid' and sop_class_uid = data->>'SopClassUid' and study_key = (data->>'StudyKey')::uuid
                and series_key = (data->>'SeriesKey')::uuid and instance_number = (data->>'InstanceNumber')::int),
              count(*),
              count(*) filter (where transfer_syntax_uid = data->>'TransferSyntaxUid' and blob_sha256 = data->'Blob'->>'Sha256'
                and blob_length = (data->'Blob'->>'Length')::bigint and stored_at = regexp_replace(data->>'StoredAt', '(\.[0-9]{6})[0-9]+', '\1')::timestamptz)
            from eventsourced.mt_doc_qidoinstance where tenant_id = $1 and study_instance_uid = $2
            """, connection);
        command.Parameters.AddWithValue(Tenant);
        command.Parameters.AddWithValue(study);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(5L, reader.GetInt64(0));
        Assert.Equal(5L, reader.GetInt64(1));
        Assert.Equal(5L, reader.GetInt64(2));
    }
}
