using System.Text.Json;
using EventSourced.Projections.Qido;

namespace EventSourced.Web.Shared.Qido;

/// <summary>
/// What a QIDO-RS answer shows of a study (<see cref="QidoStudy"/>): its attributes and the computed counts and
/// modalities. A search that adds a study's attributes to its series or instances reads the study record as
/// this, so the record's other parts (per-instance sizes, the attributes as received, series maps) are skipped
/// by the deserializer instead of being built and dropped.
/// </summary>
public sealed record QidoStudySummary
{
    public Guid Id { get; init; }

    public string StudyInstanceUid { get; init; } = "";

    public IReadOnlyList<string> ModalitiesInStudy { get; init; } = [];

    public int NumberOfStudyRelatedSeries { get; init; }

    public int NumberOfStudyRelatedInstances { get; init; }

    public JsonElement Attributes { get; init; }

    public static QidoStudySummary From(QidoStudy study) => new()
    {
        Id = study.Id,
        StudyInstanceUid = study.StudyInstanceUid,
        ModalitiesInStudy = study.ModalitiesInStudy,
        NumberOfStudyRelatedSeries = study.NumberOfStudyRelatedSeries,
        NumberOfStudyRelatedInstances = study.NumberOfStudyRelatedInstances,
        Attributes = study.Attributes,
    };
}
