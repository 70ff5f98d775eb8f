namespace EventSourced.Projections.Qido;

/// <summary>
/// What list-valued study attributes (modalities, station names, calling AE titles) are matched against
/// by jsonb containment, and what the study table's GIN index holds: the document without the members
/// no containment ever looks into. The header copies and the per-series and per-instance maps were
/// about two thirds of the index (docs/architecture.md, "Storage settings"), and the maps grow with
/// the study. Every containment match on <see cref="QidoStudy"/> must use <see cref="Target"/> for the
/// planner to use the index.
/// </summary>
public static class QidoStudyContainment
{
    private static readonly string[] LeftOut =
    [
        nameof(QidoStudy.Attributes),
        nameof(QidoStudy.ReceivedAttributes),
        nameof(QidoStudy.SeriesModalities),
        nameof(QidoStudy.InstanceSizes),
    ];

    /// <summary>The expression over <paramref name="data"/> (the document column, e.g. <c>d.data</c>), written as PostgreSQL prints it back.</summary>
    public static string Target(string data) =>
        LeftOut.Aggregate(data, (expression, member) => $"({expression} - '{member}'::text)");
}
