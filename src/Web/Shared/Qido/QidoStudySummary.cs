using System.Text.Json;
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

    public JsonElement Attributes { get; init; }

    /// <summary>
    /// One study record as its summary, a JSON text: the record's duplicated columns and its attributes. Built as
    /// <c>json</c> (text), not <c>jsonb</c>: the attributes are written out once instead of being copied into a new
    /// binary document first, which halves the database's work for a page of 100 studies (docs/benchmarks.md).
    /// </summary>
    private const string Shown =
        "json_build_object('Id', d.id, 'StudyInstanceUid', d.study_instance_uid, 'ModalitiesInStudy', d.modalities_in_study, "
        + "'NumberOfStudyRelatedSeries', d.number_of_study_related_series, 'NumberOfStudyRelatedInstances', d.number_of_study_related_instances, "
        + "'Attributes', d.data -> 'Attributes')";

    /// <summary>The summaries of the studies whose keys are the second parameter (the tenant is the first).</summary>
    public static string ByKeys(string studyTable) => $"select {Shown} from {studyTable} as d where d.tenant_id = ? and d.id = any(?)";

    /// <summary>
    /// A page of a study search, in its order (newest received first, then the Study Instance UID): the page's keys
    /// are found on the record's columns alone, then only the page's records are opened, so a match is never
    /// decompressed to be sorted. Parameters: the tenant, <paramref name="predicate"/>'s values (over alias
    /// <c>d</c>, none when null), the offset, the limit, the tenant again.
    /// </summary>
    public static string Page(string studyTable, string? predicate) =>
        $"select {Shown} from {studyTable} as d join (select d.id, d.received_at, d.study_instance_uid from {studyTable} as d "
        + $"where d.tenant_id = ?{(predicate is null ? "" : " and " + predicate)} order by d.received_at desc, d.study_instance_uid offset ? limit ?) as p "
        + "on p.id = d.id where d.tenant_id = ? order by p.received_at desc, p.study_instance_uid";
}
