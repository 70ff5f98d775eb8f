using System.Text.Json;
using Marten;

namespace EventSourced.Projections.Qido;

/// <summary>
/// An instance's DICOM JSON read from the event that holds it (<see cref="QidoInstance.HeaderEvent"/>,
/// <see cref="QidoInstance.HeaderPath"/>) instead of a copy in the document: as SQL for a query on the
/// instance table (matching, or the document with its header in one select), or in one query for
/// documents already read. The event's data is jsonb like the document was, so the header comes back in
/// the same form the copy had; an erasure's masking of the event shows in it.
/// </summary>
public static class QidoInstanceHeaders
{
    /// <summary>The path of <see cref="QidoInstance.HeaderPath"/> when it is null: the event's own instance.</summary>
    public const string DefaultPath = "{Instance,Header}";

    /// <summary>The event table of <paramref name="store"/> (the live schema, or a rebuild's scratch one).</summary>
    public static string EventsTable(IDocumentStore store) => $"\"{store.Options.Events.DatabaseSchemaName}\".mt_events";

    /// <summary>The jsonb header of the instance row aliased <paramref name="alias"/>: a read of its event by its id (a unique index).</summary>
    public static string Expression(IDocumentStore store, string alias) =>
        $"(select e.data #> coalesce(({alias}.data ->> 'HeaderPath')::text[], '{DefaultPath}') from {EventsTable(store)} e "
        + $"where e.id = ({alias}.data ->> 'HeaderEvent')::uuid)";

    /// <summary>
    /// A select of the instance documents (alias <c>d</c>) with their header in them, for Marten's query by SQL:
    /// append the <c>where</c> and <c>order by</c>.
    /// </summary>
    public static string SelectWithHeaders(IDocumentStore store) =>
        $"select d.data || jsonb_build_object('Header', {Expression(store, "d")}) from "
        + $"{store.Options.FindOrResolveDocumentType(typeof(QidoInstance)).TableName.QualifiedName} as d ";

    /// <summary><paramref name="instances"/> with their headers, in their order, read in one query.</summary>
    public static async Task<IReadOnlyList<QidoInstance>> WithHeadersAsync(IQuerySession session, IReadOnlyList<QidoInstance> instances, CancellationToken cancellation)
    {
        if (instances.Count == 0)
        {
            return instances;
        }

        var rows = await session.AdvancedSql.QueryAsync<HeaderRow>(
            $"select jsonb_build_object('Index', x.i, 'Header', e.data #> coalesce(x.p::text[], '{DefaultPath}')) "
            + $"from unnest(?::uuid[], ?::text[]) with ordinality as x(s, p, i) join {EventsTable(session.DocumentStore)} e on e.id = x.s",
            cancellation, instances.Select(i => i.HeaderEvent).ToArray(), instances.Select(i => i.HeaderPath).ToArray());
        var headers = rows.ToDictionary(r => r.Index, r => r.Header);
        return [.. instances.Select((i, n) => i with
        {
            Header = headers.TryGetValue(n + 1, out var header)
                ? header
                : throw new InvalidOperationException($"The header of instance {i.SopInstanceUid} is in event {i.HeaderEvent}, which is not in the log."),
        })];
    }

    private sealed record HeaderRow(long Index, JsonElement Header);
}
