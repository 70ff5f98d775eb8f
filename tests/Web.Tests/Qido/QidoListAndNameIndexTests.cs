using System.Net;
using System.Net.Http.Headers;
using EventSourced.Dicom;
using EventSourced.Projections.Qido;
using EventSourced.Web.Infrastructure;
using EventSourced.Web.Shared.Qido;
using EventSourced.Web.Tests.Support;
using Marten;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;
using Npgsql;
using static EventSourced.Web.Tests.Qido.QidoFixture;

namespace EventSourced.Web.Tests.Qido;

/// <summary>
/// The list-valued keys (StationName, ModalitiesInStudy) matched on their <c>text[]</c> columns and the
/// person-name indexes: every answer is checked against an explicit expectation and against the rule
/// the columns replaced (jsonb containment on the document, and LIKE over its array's elements), run
/// in SQL on the same rows; the indexes exist, the generated SQL can use them, and Marten finds nothing
/// to change after the start-up upgrade of a table that had neither the columns nor the indexes.
/// </summary>
[Collection(QidoCollection.Name)]
public sealed class QidoListAndNameIndexTests(QidoFixture fixture) : IAsyncLifetime
{
    private const string ListTenant = "qido-lists";
    private static readonly string L = Root + ".70";
    private static readonly string L1 = L + ".1", L2 = L + ".2", L3 = L + ".3", L4 = L + ".4";

    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        client = await fixture.App.ClientForTenantAsync(ListTenant, "studies.read");
        client.DefaultRequestHeaders.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/dicom+json"));
        if (await SeededAsync())
        {
            return;
        }

        // L1: two series on two stations (a multi-valued list); L2: the first station's name in lower case;
        // L3: no station; L4: a station whose name starts with the first's, and LIKE's metacharacters.
        await Store(L1, ".1", "CT1", "CT", "Doe^Jane");
        await Store(L1, ".2", "MR_2", "MR", "Doe^Jane");
        await Store(L2, ".1", "ct1", "CT", "DOE^JOHN");
        await Store(L3, ".1", null, "US", "Dolan^Anna");
        await Store(L4, ".1", "CT10%", "CT", "Kowalski^Piotr");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<bool> SeededAsync()
    {
        var (response, _) = await client.QidoAsync($"/dicomweb/studies?StudyInstanceUID={L1}");
        return response.StatusCode == HttpStatusCode.OK;
    }

    private Task Store(string study, string series, string? station, string modality, string name)
    {
        (string, DicomVR, string)[] attributes = station is null
            ? [("Modality", DicomVR.CS, modality), ("PatientName", DicomVR.PN, name)]
            : [("Modality", DicomVR.CS, modality), ("PatientName", DicomVR.PN, name), ("StationName", DicomVR.SH, station)];
        return fixture.App.StoreAsync(ListTenant, QidoSupport.FromDataset(QidoSupport.Synthetic(study, study + series, study + series + ".1", attributes)));
    }

    private static string Expand(string text) => text.Replace("{L1}", L1, StringComparison.Ordinal).Replace("{L2}", L2, StringComparison.Ordinal)
        .Replace("{L3}", L3, StringComparison.Ordinal).Replace("{L4}", L4, StringComparison.Ordinal);

    private async Task<string[]> AnswerAsync(string url, string tag)
    {
        var (response, body) = await client.QidoAsync(url);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NoContent, $"{url}: {(int)response.StatusCode}");
        return response.StatusCode == HttpStatusCode.NoContent ? [] : [.. body.Values(tag).OfType<string>().Order(StringComparer.Ordinal)];
    }

    /// <summary>The studies of the tenant the pre-column rule selects: jsonb containment for exact values, LIKE over the array's elements once a wildcard is given.</summary>
    private async Task<string[]> OldRuleStudiesAsync(string member, string value)
    {
        var items = value.Split([',', '\\'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var wildcard = items.Any(i => i.IndexOfAny(['*', '?']) >= 0);
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        var clauses = new List<string>();
        for (var i = 0; i < items.Length; i++)
        {
            clauses.Add(wildcard
                ? $"exists (select 1 from jsonb_array_elements_text(d.data -> '{member}') v(x) where x like @p{i})"
                : $"d.data @> @p{i}::jsonb");
            command.Parameters.AddWithValue($"p{i}", wildcard
                ? items[i].Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal).Replace('*', '%').Replace('?', '_')
                : System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string[]> { [member] = [items[i]] }));
        }

        command.CommandText = $"select d.study_instance_uid from eventsourced.mt_doc_qidostudy d where d.tenant_id = @tenant and ({string.Join(" or ", clauses)})";
        command.Parameters.AddWithValue("tenant", ListTenant);
        var studies = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            studies.Add(reader.GetString(0));
        }

        return [.. studies.Order(StringComparer.Ordinal)];
    }

    [Theory]
    [InlineData("StationName=CT1", "{L1}")]
    [InlineData("StationName=ct1", "{L2}")]
    [InlineData("StationName=MR_2", "{L1}")]
    [InlineData("StationName=MR%5F2", "{L1}")]
    [InlineData("StationName=MRX2", "")]
    [InlineData("StationName=CT1,ct1", "{L1} {L2}")]
    [InlineData("StationName=CT1\\MR_2", "{L1}")]
    [InlineData("StationName=CT*", "{L1} {L4}")]
    [InlineData("StationName=?t1", "{L2}")]
    [InlineData("StationName=CT10%25", "{L4}")]
    [InlineData("StationName=CT1%25", "")]
    [InlineData("StationName=*%25", "{L4}")]
    [InlineData("StationName=CT1,M*", "{L1}")]
    [InlineData("StationName=C", "")]
    [InlineData("ModalitiesInStudy=CT", "{L1} {L2} {L4}")]
    [InlineData("ModalitiesInStudy=MR,US", "{L1} {L3}")]
    [InlineData("ModalitiesInStudy=ct", "")]
    [InlineData("ModalitiesInStudy=?S", "{L3}")]
    public async Task List_keys_match_on_the_array_columns_as_the_document_rule_did(string query, string expected)
    {
        var want = expected.Length == 0 ? [] : Expand(expected).Split(' ').Order(StringComparer.Ordinal).ToArray();
        var (keyword, value) = (query.Split('=')[0], Uri.UnescapeDataString(query.Split('=')[1]));
        var member = keyword == "StationName" ? nameof(QidoStudy.StationNames) : nameof(QidoStudy.ModalitiesInStudy);

        Assert.Equal(want, await OldRuleStudiesAsync(member, value));
        Assert.Equal(want, await AnswerAsync($"/dicomweb/studies?{query}", "0020000D"));

        // A study-level key on the series and instance levels selects every series and instance of those
        // studies, whichever station each series was made on (L1 has a series on each of its two stations).
        string[] SeriesOf(string study) => study == L1 ? [L1 + ".1", L1 + ".2"] : [study + ".1"];
        var wantSeries = want.SelectMany(SeriesOf).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(wantSeries, await AnswerAsync($"/dicomweb/series?{query}", "0020000E"));
        Assert.Equal(wantSeries.Select(s => s + ".1").ToArray(), await AnswerAsync($"/dicomweb/instances?{query}", "00080018"));
    }

    [Theory]
    [InlineData("doe*", "{L1} {L2}")]
    [InlineData("DO*", "{L1} {L2} {L3}")]
    [InlineData("doe^jane", "{L1}")]
    [InlineData("Doe^J?ne", "{L1}")]
    [InlineData("kowalski^p*", "{L4}")]
    [InlineData("*^anna", "{L3}")]
    [InlineData("doe", "")]
    public async Task Person_name_prefix_and_value_match_ignoring_case(string name, string expected)
    {
        var want = expected.Length == 0 ? [] : Expand(expected).Split(' ').Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(want, await AnswerAsync($"/dicomweb/studies?PatientName={Uri.EscapeDataString(name)}", "0020000D"));
    }

    [Fact]
    public Task The_array_columns_hold_the_documents_lists() => AssertColumnsHoldTheListsAsync();

    [Fact]
    public async Task A_rebuild_of_the_projections_fills_the_array_columns_again()
    {
        await ReadModelTables.AssertStudyReadModelsEqualARebuildAsync(fixture.App.Store, fixture.ConnectionString);
        await AssertColumnsHoldTheListsAsync();
        Assert.Equal([L1], await AnswerAsync("/dicomweb/studies?StationName=MR_2", "0020000D"));
    }

    private async Task AssertColumnsHoldTheListsAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            select count(*) from eventsourced.mt_doc_qidostudy d
            where d.station_names is distinct from array(select jsonb_array_elements_text(d.data -> 'StationNames'))
               or d.modalities_in_study is distinct from array(select jsonb_array_elements_text(d.data -> 'ModalitiesInStudy'))
               or d.calling_ae_titles is distinct from array(select jsonb_array_elements_text(d.data -> 'CallingAeTitles'))
            """, connection);
        Assert.Equal(0L, await command.ExecuteScalarAsync());
        await using var l1 = new NpgsqlCommand("select station_names from eventsourced.mt_doc_qidostudy where tenant_id = @t and study_instance_uid = @s", connection);
        l1.Parameters.AddWithValue("t", ListTenant);
        l1.Parameters.AddWithValue("s", L1);
        Assert.Equal(["CT1", "MR_2"], (string[])(await l1.ExecuteScalarAsync())!);
    }

    /// <summary>The SQL QIDO generates for a query, as one statement with positional parameters.</summary>
    private static (string Where, object[] Args) Generated(QidoLevel level, string alias, params (string Key, string Value)[] parameters)
    {
        var (query, error) = QidoQuery.Parse(new QueryCollection(parameters.ToDictionary(p => p.Key, p => new StringValues(p.Value))), level);
        Assert.Null(error);
        var condition = Assert.Single(query!.Conditions);
        var sql = condition.Render(alias);
        var n = 1;
        var positional = string.Concat(sql.Select(c => c == '?' ? "$" + n++ : c.ToString()));
        return (positional, condition.Args);
    }

    [Theory]
    [InlineData(QidoRegistration.PatientNameUpperIndex, "PatientName", "KOWAL*", false)]
    [InlineData(QidoRegistration.PatientNameUpperIndex, "PatientName", "kowalski^piotr", false)]
    [InlineData(QidoRegistration.PatientNameFuzzyTrigramIndex, "PatientName", "kowal", true)]
    [InlineData("mt_doc_qidostudy_idx_station_names", "StationName", "CT1", false)]
    [InlineData("mt_doc_qidostudy_idx_station_names", "StationName", "CT1,MR_2", false)]
    [InlineData("mt_doc_qidostudy_idx_modalities_in_study", "ModalitiesInStudy", "CT", false)]
    public async Task The_generated_sql_can_use_its_index(string index, string key, string value, bool fuzzy)
    {
        (string, string)[] parameters = fuzzy ? [(key, value), ("fuzzymatching", "true")] : [(key, value)];
        var (where, args) = Generated(QidoLevel.Study, "d", parameters);
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using (var off = new NpgsqlCommand("set enable_seqscan = off", connection))
        {
            await off.ExecuteNonQueryAsync();
        }

        await using var explain = new NpgsqlCommand($"explain (costs off) select d.id from eventsourced.mt_doc_qidostudy d where {where}", connection);
        foreach (var arg in args)
        {
            explain.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        Assert.Contains(plan, line => line.Contains(index, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_pacs_study_counts_list_filter_can_use_its_index_and_no_index_covers_the_whole_document()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using (var off = new NpgsqlCommand("set enable_seqscan = off", connection))
        {
            await off.ExecuteNonQueryAsync();
        }

        // The predicate PacsStudiesModule writes for aet=… (one text[] parameter).
        await using var explain = new NpgsqlCommand("explain (costs off) select count(*) from eventsourced.mt_doc_qidostudy d where d.calling_ae_titles && $1", connection);
        explain.Parameters.Add(new NpgsqlParameter { Value = new[] { "FEED1", "FEED2" } });
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        Assert.Contains(plan, line => line.Contains("mt_doc_qidostudy_idx_calling_ae_titles", StringComparison.Ordinal));
        await using var whole = new NpgsqlCommand(
            // The document itself as an index key (an operator class may follow); an expression on one of its members is not that.
            "select count(*) from pg_indexes where schemaname = 'eventsourced' and tablename = 'mt_doc_qidostudy' and indexdef ~ '\\(data( [a-z_]+)?\\)'", connection);
        Assert.Equal(0L, await whole.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Study_and_instance_tables_from_before_are_upgraded_at_start_and_marten_finds_nothing_to_change()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        async Task<string> Snapshot()
        {
            await using var command = new NpgsqlCommand(
                "select string_agg(tenant_id || ' ' || id || ' ' || station_names::text || ' ' || modalities_in_study::text || ' ' || calling_ae_titles::text, E'\\n' order by tenant_id, id) from eventsourced.mt_doc_qidostudy", connection);
            return (string)(await command.ExecuteScalarAsync())!;
        }

        var before = await Snapshot();

        // The table as the previous versions left it: no array columns, no person-name indexes, a GIN index over the document.
        await using (var downgrade = new NpgsqlCommand(
            $"""
            drop index if exists eventsourced.{QidoRegistration.PatientNameUpperIndex};
            drop index if exists eventsourced.{QidoRegistration.PatientNameFuzzyTrigramIndex};
            alter table eventsourced.mt_doc_qidostudy drop column station_names, drop column modalities_in_study, drop column calling_ae_titles;
            create index {QidoSchemaUpgrade.DocumentIndex} on eventsourced.mt_doc_qidostudy using gin (data jsonb_path_ops);
            alter table eventsourced.mt_doc_qidoinstance
                add column mt_last_modified timestamp with time zone default transaction_timestamp(),
                add column mt_version uuid not null default (md5(random()::text || clock_timestamp()::text)::uuid);
            """, connection))
        {
            await downgrade.ExecuteNonQueryAsync();
        }

        var filled = await QidoSchemaUpgrade.ApplyAsync(fixture.App.Services.GetRequiredService<NpgsqlDataSource>(), "eventsourced", NullLogger.Instance, CancellationToken.None);

        Assert.True(filled >= 4, $"{filled} rows filled");
        Assert.Equal(before, await Snapshot());
        await fixture.App.Store.Storage.Database.AssertDatabaseMatchesConfigurationAsync();
        await using var indexes = new NpgsqlCommand(
            "select count(*) from pg_indexes where schemaname = 'eventsourced' and tablename = 'mt_doc_qidostudy' and indexname = any(@names)", connection);
        indexes.Parameters.AddWithValue("names", new[]
        {
            QidoRegistration.PatientNameUpperIndex, QidoRegistration.PatientNameFuzzyTrigramIndex, "mt_doc_qidostudy_idx_station_names", "mt_doc_qidostudy_idx_modalities_in_study",
            "mt_doc_qidostudy_idx_calling_ae_titles", QidoSchemaUpgrade.DocumentIndex,
        });
        Assert.Equal(5L, await indexes.ExecuteScalarAsync());
        await using var bookkeeping = new NpgsqlCommand(
            "select count(*) from information_schema.columns where table_schema = 'eventsourced' and table_name = 'mt_doc_qidoinstance' and column_name like 'mt\\_%'", connection);
        Assert.Equal(0L, await bookkeeping.ExecuteScalarAsync());

        // A second start finds nothing to do.
        Assert.Equal(0, await QidoSchemaUpgrade.ApplyAsync(fixture.App.Services.GetRequiredService<NpgsqlDataSource>(), "eventsourced", NullLogger.Instance, CancellationToken.None));
    }
}
