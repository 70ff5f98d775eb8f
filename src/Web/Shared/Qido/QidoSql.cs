using EventSourced.Projections.Qido;
using Marten;

namespace EventSourced.Web.Shared.Qido;

/// <summary>
/// Translates a parsed query into one SQL predicate on the resource level's table (alias <c>d</c>).
/// Conditions on the level itself use its columns; conditions on a higher level become <c>d.study_key in (select s.id from study s where s.tenant_id = :tenant and …)</c>
/// (and the same for series), so every level is matched against its own, indexed document. The
/// sub-select names the tenant as a value, not as <c>d.tenant_id</c>: a correlated sub-select is
/// re-run once per candidate row (a SubPlan), an uncorrelated one is run once and hashed, so a
/// series search by a study attribute costs the same at any offset (docs/benchmarks.md).
/// </summary>
public sealed class QidoSql(IDocumentStore store)
{
    /// <summary>The study records' table (<see cref="QidoStudy"/>).</summary>
    public string StudyTable => Table<QidoStudy>();

    /// <summary>The series records' table (<see cref="QidoSeries"/>).</summary>
    public string SeriesTable => Table<QidoSeries>();

    /// <summary>The instance records' table (<see cref="QidoInstance"/>).</summary>
    public string InstanceTable => Table<QidoInstance>();

    private string Table<T>() => store.Options.FindOrResolveDocumentType(typeof(T)).TableName.QualifiedName;

    /// <summary>
    /// The search's conditions on the level's table as one SQL predicate over alias <c>d</c> with <c>?</c>
    /// placeholders, and its values; null when nothing is matched on (the tenant filter is not part of it).
    /// </summary>
    public (string? Sql, object[] Args) Predicate(string tenantId, QidoQuery query, QidoLevel level, string? studyUid, string? seriesUid)
    {
        var clauses = new List<string>();
        var args = new List<object>();

        if (studyUid is not null)
        {
            clauses.Add("d.study_instance_uid = ?");
            args.Add(studyUid);
        }

        if (seriesUid is not null)
        {
            clauses.Add("d.series_instance_uid = ?");
            args.Add(seriesUid);
        }

        foreach (var condition in query.Conditions.Where(c => c.Key.Level == level))
        {
            clauses.Add("(" + condition.Render("d") + ")");
            args.AddRange(condition.Args);
        }

        if (level > QidoLevel.Study)
        {
            SubSelect(QidoLevel.Study, "study_key", Table<QidoStudy>(), "s");
        }

        if (level > QidoLevel.Series)
        {
            SubSelect(QidoLevel.Series, "series_key", Table<QidoSeries>(), "se");
        }

        return (clauses.Count == 0 ? null : string.Join(" and ", clauses), args.ToArray());

        void SubSelect(QidoLevel parent, string keyColumn, string table, string alias)
        {
            var conditions = query.Conditions.Where(c => c.Key.Level == parent).ToList();
            if (conditions.Count == 0)
            {
                return;
            }

            clauses.Add($"d.{keyColumn} in (select {alias}.id from {table} {alias} where {alias}.tenant_id = ? and "
                + string.Join(" and ", conditions.Select(c => "(" + c.Render(alias) + ")")) + ")");
            args.Add(tenantId);
            foreach (var c in conditions)
            {
                args.AddRange(c.Args);
            }
        }
    }
}
