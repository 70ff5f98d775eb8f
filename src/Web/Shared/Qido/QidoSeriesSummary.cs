using EventSourced.Projections.Qido;

namespace EventSourced.Web.Shared.Qido;

/// <summary>
/// What a QIDO-RS answer shows of a series (<see cref="QidoSeries"/>): its keys, its attributes and its instance count,
/// read from the record's columns and its attributes alone (<see cref="QidoRows"/>).
/// </summary>
public sealed record QidoSeriesSummary
{
    public Guid Id { get; init; }

    /// <summary>The study stream id (= QidoStudy.Id).</summary>
    public Guid StudyKey { get; init; }

    public string StudyInstanceUid { get; init; } = "";

    public string SeriesInstanceUid { get; init; } = "";

    public int NumberOfSeriesRelatedInstances { get; init; }

    public StoredAttributes Attributes { get; init; } = StoredAttributes.None;

    private const string Shown =
        "d.id, d.study_key, d.study_instance_uid, d.series_instance_uid, d.number_of_series_related_instances, d.data -> 'Attributes'";

    /// <summary>The summaries of the series whose keys are the second parameter (the tenant is the first).</summary>
    public static string ByKeys(string seriesTable) => QidoRows.ByKeys(Shown, seriesTable);

    /// <summary>
    /// A page of a series search, in its order (Study Instance UID, Series Number, Series Instance UID), its keys found
    /// first after the first page (<see cref="QidoRows.Page"/>, whose parameters it takes).
    /// </summary>
    public static string Page(string seriesTable, string? predicate, bool keysFirst) =>
        QidoRows.Page(Shown, seriesTable, predicate, ["study_instance_uid", "series_number", "series_instance_uid"], keysFirst);

    /// <summary>The summaries <paramref name="sql"/> (<see cref="Page"/> or <see cref="ByKeys"/>) selects.</summary>
    public static Task<List<QidoSeriesSummary>> ReadAsync(Marten.IQuerySession session, string sql, CancellationToken cancellation, params object[] parameters) =>
        QidoRows.ReadAsync(session, sql, reader => new QidoSeriesSummary
        {
            Id = reader.GetGuid(0),
            StudyKey = QidoRows.Key(reader, 1),
            StudyInstanceUid = QidoRows.Text(reader, 2),
            SeriesInstanceUid = QidoRows.Text(reader, 3),
            NumberOfSeriesRelatedInstances = QidoRows.Count(reader, 4),
            Attributes = StoredAttributes.Read(reader, 5),
        }, cancellation, parameters);
}
