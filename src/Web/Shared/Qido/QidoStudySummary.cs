using EventSourced.Projections.Qido;

namespace EventSourced.Web.Shared.Qido;

/// <summary>
/// What a QIDO-RS answer shows of a study (<see cref="QidoStudy"/>): its attributes and the computed counts and
/// modalities. Searches read study records as this (<see cref="Select"/>, a projection in the SQL), so the
/// record's other parts (per-instance sizes, the attributes as received, series maps: most of its bytes) are
/// neither sent by the database nor parsed.
/// </summary>
public sealed record QidoStudySummary
{
    public Guid Id { get; init; }

    public string StudyInstanceUid { get; init; } = "";

    public IReadOnlyList<string> ModalitiesInStudy { get; init; } = [];

    public int NumberOfStudyRelatedSeries { get; init; }

    public int NumberOfStudyRelatedInstances { get; init; }

    public StoredAttributes Attributes { get; init; } = StoredAttributes.None;

    /// <summary>Of a study record, what its summary is read from (<see cref="QidoRows"/>): the duplicated columns and the attributes.</summary>
    private const string Shown =
        "d.id, d.study_instance_uid, d.modalities_in_study, d.number_of_study_related_series, d.number_of_study_related_instances, d.data -> 'Attributes'";

    /// <summary>The summaries of the studies whose keys are the second parameter (the tenant is the first).</summary>
    public static string ByKeys(string studyTable) => QidoRows.ByKeys(Shown, studyTable);

    /// <summary>
    /// A page of a study search, in its order (newest received first, then the Study Instance UID), its keys found first
    /// (<see cref="QidoRows.Page"/>): a match is never decompressed to be sorted. Parameters: the tenant,
    /// <paramref name="predicate"/>'s values (over alias <c>d</c>, none when null), the offset, the limit, the tenant again.
    /// </summary>
    public static string Page(string studyTable, string? predicate) =>
        QidoRows.Page(Shown, studyTable, predicate, ["received_at desc", "study_instance_uid"], keysFirst: true);

    /// <summary>The summaries <paramref name="sql"/> (<see cref="Page"/> or <see cref="ByKeys"/>) selects.</summary>
    public static Task<List<QidoStudySummary>> ReadAsync(Marten.IQuerySession session, string sql, CancellationToken cancellation, params object[] parameters) =>
        QidoRows.ReadAsync(session, sql, reader => new QidoStudySummary
        {
            Id = reader.GetGuid(0),
            StudyInstanceUid = QidoRows.Text(reader, 1),
            ModalitiesInStudy = reader.IsDBNull(2) ? [] : reader.GetFieldValue<string[]>(2),
            NumberOfStudyRelatedSeries = QidoRows.Count(reader, 3),
            NumberOfStudyRelatedInstances = QidoRows.Count(reader, 4),
            Attributes = StoredAttributes.Read(reader, 5),
        }, cancellation, parameters);
}
