using EventSourced.Projections.Qido;

namespace EventSourced.Web.Shared.Qido;

/// <summary>
/// What a QIDO-RS answer shows of an instance (<see cref="QidoInstance"/>): its keys and its recorded header, read from
/// the record's columns and its header alone (<see cref="QidoRows"/>), not the whole document.
/// </summary>
public sealed record QidoInstanceSummary
{
    /// <summary>The study stream id (= QidoStudy.Id).</summary>
    public Guid StudyKey { get; init; }

    /// <summary>= QidoSeries.Id.</summary>
    public Guid SeriesKey { get; init; }

    public string StudyInstanceUid { get; init; } = "";

    public string SeriesInstanceUid { get; init; } = "";

    public string SopInstanceUid { get; init; } = "";

    public StoredAttributes Header { get; init; } = StoredAttributes.None;

    /// <summary>Of an instance record, what its summary is read from (<see cref="QidoRows"/>): the keys and the header.</summary>
    private static readonly string Shown = $"d.study_key, d.series_key, d.study_instance_uid, d.series_instance_uid, d.sop_instance_uid, {QidoInstance.HeaderText("d")}";

    /// <summary>
    /// A page of an instance search, in its order (Study, Series Instance UID, Instance Number, SOP Instance UID: the
    /// QIDO order index), its keys found first after the first page (<see cref="QidoRows.Page"/>, whose parameters it takes).
    /// </summary>
    public static string Page(string instanceTable, string? predicate, bool keysFirst) =>
        QidoRows.Page(Shown, instanceTable, predicate, ["study_instance_uid", "series_instance_uid", "instance_number", "sop_instance_uid"], keysFirst);

    /// <summary>The summaries <paramref name="sql"/> (<see cref="Page"/>) selects.</summary>
    public static Task<List<QidoInstanceSummary>> ReadAsync(Marten.IQuerySession session, string sql, CancellationToken cancellation, params object[] parameters) =>
        QidoRows.ReadAsync(session, sql, reader => new QidoInstanceSummary
        {
            StudyKey = QidoRows.Key(reader, 0),
            SeriesKey = QidoRows.Key(reader, 1),
            StudyInstanceUid = QidoRows.Text(reader, 2),
            SeriesInstanceUid = QidoRows.Text(reader, 3),
            SopInstanceUid = QidoRows.Text(reader, 4),
            Header = StoredAttributes.Read(reader, 5),
        }, cancellation, parameters);
}
