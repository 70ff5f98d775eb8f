using System.Text.Json;
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

    public JsonElement Header { get; init; }

    /// <summary>
    /// A page of an instance search, in its order (Study, Series Instance UID, Instance Number, SOP Instance UID: the
    /// QIDO order index). Parameters: the tenant, <paramref name="predicate"/>'s values (over alias <c>d</c>, none when
    /// null), the offset, the limit.
    /// </summary>
    public static string Page(string instanceTable, string? predicate) =>
        $"select d.study_key, d.series_key, d.study_instance_uid, d.series_instance_uid, d.sop_instance_uid, d.data -> 'Header' from {instanceTable} as d "
        + $"where {QidoRows.Where(predicate)} "
        + "order by d.study_instance_uid, d.series_instance_uid, d.instance_number, d.sop_instance_uid offset ? limit ?";

    /// <summary>The summaries <paramref name="sql"/> (<see cref="Page"/>) selects.</summary>
    public static Task<List<QidoInstanceSummary>> ReadAsync(Marten.IQuerySession session, string sql, CancellationToken cancellation, params object[] parameters) =>
        QidoRows.ReadAsync(session, sql, reader => new QidoInstanceSummary
        {
            StudyKey = QidoRows.Key(reader, 0),
            SeriesKey = QidoRows.Key(reader, 1),
            StudyInstanceUid = QidoRows.Text(reader, 2),
            SeriesInstanceUid = QidoRows.Text(reader, 3),
            SopInstanceUid = QidoRows.Text(reader, 4),
            Header = QidoRows.Json(reader, 5),
        }, cancellation, parameters);
}
