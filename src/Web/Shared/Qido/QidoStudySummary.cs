using System.Linq.Expressions;
using System.Text.Json;
using EventSourced.Projections.Qido;

namespace EventSourced.Web.Shared.Qido;

/// <summary>
/// What a QIDO-RS answer shows of a study (<see cref="QidoStudy"/>): its attributes and the computed counts and
/// modalities. Searches read study records as this (<see cref="Shown"/>, a projection in the SQL), so the
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

    /// <summary>The summary of a study record, as a LINQ projection Marten turns into SQL.</summary>
    public static readonly Expression<Func<QidoStudy, QidoStudySummary>> Shown = study => new QidoStudySummary
    {
        Id = study.Id,
        StudyInstanceUid = study.StudyInstanceUid,
        ModalitiesInStudy = study.ModalitiesInStudy,
        NumberOfStudyRelatedSeries = study.NumberOfStudyRelatedSeries,
        NumberOfStudyRelatedInstances = study.NumberOfStudyRelatedInstances,
        Attributes = study.Attributes,
    };
}
