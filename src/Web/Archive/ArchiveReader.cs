using System.Text.Json.Serialization;
using EventSourced.Application.Archive;
using EventSourced.Dicom;
using EventSourced.Domain.Studies;
using EventSourced.Projections.Archive;
using EventSourced.Projections.Qido;
using Marten;

namespace EventSourced.Web.Archive;

/// <summary>Get patient: the document's four fields, names as the document spells them.</summary>
public sealed record ArchivePatientResponse(
    [property: JsonPropertyName("PatientBirthDate")] string? PatientBirthDate,
    [property: JsonPropertyName("PatientID")] string PatientId,
    [property: JsonPropertyName("PatientName")] string? PatientName,
    [property: JsonPropertyName("PatientSex")] string? PatientSex);

/// <summary>Get study (and each item of List studies).</summary>
public sealed record ArchiveStudyResponse(
    [property: JsonPropertyName("StudyInstanceUID")] string StudyInstanceUid,
    [property: JsonPropertyName("StudyDate")] string? StudyDate,
    [property: JsonPropertyName("StudyTime")] string? StudyTime,
    [property: JsonPropertyName("StudyDescription")] string? StudyDescription,
    [property: JsonPropertyName("ReferringPhysicianName")] string? ReferringPhysicianName,
    [property: JsonPropertyName("InstitutionName")] string? InstitutionName,
    [property: JsonPropertyName("AccessionNumber")] string? AccessionNumber);

/// <summary>Get series (and each item of List series).</summary>
public sealed record ArchiveSeriesResponse(
    [property: JsonPropertyName("SeriesInstanceUID")] string SeriesInstanceUid,
    [property: JsonPropertyName("SOPClassUID")] string SopClassUid,
    [property: JsonPropertyName("SeriesDate")] string? SeriesDate,
    [property: JsonPropertyName("SeriesTime")] string? SeriesTime,
    [property: JsonPropertyName("SeriesDescription")] string? SeriesDescription,
    [property: JsonPropertyName("Manufacturer")] string? Manufacturer,
    [property: JsonPropertyName("ManufacturerModelName")] string? ManufacturerModelName,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("status_message")] string StatusMessage);

/// <summary>
/// Document d's lookups for one tenant: membership from the archive read models (a Project/Archive sees
/// only what was filed there), DICOM attributes from the tenant's QIDO records of the same study.
/// </summary>
public sealed class ArchiveReader(IQuerySession session, string tenantId)
{
    /// <summary>
    /// The studies filed in the archive whose patient is <paramref name="patientId"/> now: filed under it
    /// and not assigned to another patient since (document e's merge and move), or assigned to it.
    /// </summary>
    public async Task<IReadOnlyList<ArchiveStudy>> StudiesOfPatientAsync(string project, string archive, string patientId, CancellationToken cancellation)
    {
        var filed = await session.Query<ArchiveStudy>()
            .Where(x => x.Project == project && x.Archive == archive && x.PatientId == patientId)
            .ToListAsync(cancellation);
        var assigned = await session.Query<QidoStudy>()
            .Where(x => x.AssignedPatient != null && x.AssignedPatient.PatientId == patientId)
            .Select(x => x.Id)
            .ToListAsync(cancellation);
        var moved = assigned.Count == 0
            ? []
            : await session.Query<ArchiveStudy>()
                .Where(x => x.Project == project && x.Archive == archive && x.StudyKey.IsOneOf(assigned.ToArray()))
                .ToListAsync(cancellation);
        var candidates = filed.Concat(moved).DistinctBy(x => x.Id).ToList();
        var current = await CurrentPatientsAsync(candidates, cancellation);
        return [.. candidates.Where(x => current[x.Id] == patientId).OrderBy(x => x.StudyInstanceUid, StringComparer.Ordinal)];
    }

    /// <summary>The study as filed in the archive, when its patient is <paramref name="patientId"/> now.</summary>
    public async Task<ArchiveStudy?> StudyAsync(string project, string archive, string patientId, string studyUid, CancellationToken cancellation)
    {
        var study = await session.LoadAsync<ArchiveStudy>(ArchiveKeys.Study(Study.StreamId(tenantId, studyUid), project, archive), cancellation);
        return study is not null && study.Project == project && study.Archive == archive
               && (await CurrentPatientsAsync([study], cancellation))[study.Id] == patientId
            ? study
            : null;
    }

    /// <summary>Each archive study's PatientID now: the one a correction assigned the study to, else the one it was filed under.</summary>
    private async Task<Dictionary<Guid, string>> CurrentPatientsAsync(IReadOnlyList<ArchiveStudy> studies, CancellationToken cancellation)
    {
        var assigned = (await session.LoadManyAsync<QidoStudy>(cancellation, studies.Select(s => s.StudyKey).Distinct()))
            .Where(q => q.AssignedPatient is not null)
            .ToDictionary(q => q.Id, q => q.AssignedPatient!.PatientId);
        return studies.ToDictionary(s => s.Id, s => assigned.GetValueOrDefault(s.StudyKey) ?? s.PatientId);
    }

    public async Task<ArchiveSeries?> SeriesAsync(string project, string archive, string patientId, string studyUid, string seriesUid, CancellationToken cancellation)
    {
        var study = await StudyAsync(project, archive, patientId, studyUid, cancellation);
        return study is null ? null : await session.LoadAsync<ArchiveSeries>(ArchiveKeys.Series(study.Id, seriesUid), cancellation);
    }

    public async Task<IReadOnlyList<ArchiveSeries>> SeriesOfStudyAsync(ArchiveStudy study, CancellationToken cancellation) =>
        await session.Query<ArchiveSeries>()
            .Where(x => x.ArchiveStudyId == study.Id)
            .OrderBy(x => x.ArchiveSeriesUid)
            .ToListAsync(cancellation);

    /// <summary>The patient's attributes as the latest stored instance of their most recently filed study has them.</summary>
    public async Task<ArchivePatientResponse> PatientAsync(string patientId, IReadOnlyList<ArchiveStudy> studies, CancellationToken cancellation)
    {
        var qido = await session.LoadManyAsync<QidoStudy>(cancellation, studies.Select(s => s.StudyKey).Distinct());
        var latest = qido.OrderByDescending(q => q.UpdatedAt).ThenBy(q => q.StudyInstanceUid, StringComparer.Ordinal).FirstOrDefault();
        return new ArchivePatientResponse(
            ArchiveValues.Date(latest?.PatientBirthDate), patientId, latest?.PatientName, latest?.PatientSex);
    }

    public async Task<IReadOnlyList<ArchiveStudyResponse>> StudyResponsesAsync(IReadOnlyList<ArchiveStudy> studies, CancellationToken cancellation)
    {
        var qido = (await session.LoadManyAsync<QidoStudy>(cancellation, studies.Select(s => s.StudyKey).Distinct())).ToDictionary(q => q.Id);
        return [.. studies.Select(s => StudyResponse(s, qido.GetValueOrDefault(s.StudyKey)))];
    }

    private static ArchiveStudyResponse StudyResponse(ArchiveStudy study, QidoStudy? qido) => new(
        study.StudyInstanceUid,
        ArchiveValues.Date(qido?.StudyDate),
        ArchiveValues.Time(qido?.StudyTime),
        qido?.StudyDescription,
        qido?.ReferringPhysicianName,
        qido?.InstitutionName,
        qido?.AccessionNumber);

    /// <summary>
    /// Series attributes: a DICOM series' from its QIDO series record (its latest stored instance); a
    /// retina series' (one instance) from that instance's header.
    /// </summary>
    public async Task<IReadOnlyList<ArchiveSeriesResponse>> SeriesResponsesAsync(IReadOnlyList<ArchiveSeries> series, CancellationToken cancellation)
    {
        var dicomSeries = (await session.LoadManyAsync<QidoSeries>(cancellation,
                series.Where(s => !s.Retina).Select(s => QidoKeys.Series(s.StudyKey, s.SeriesInstanceUid)).Distinct()))
            .ToDictionary(q => q.Id, q => q.Attributes);
        var retina = (await session.LoadManyAsync<QidoInstance>(cancellation,
                series.Where(s => s.Retina).Select(s => QidoKeys.Instance(s.StudyKey, s.ArchiveSeriesUid)).Distinct()))
            .ToDictionary(q => q.Id, q => q.Header);

        var seriesIds = series.Select(s => s.Id).ToList();
        var results = (await session.Query<ArchiveSeriesResult>().Where(x => seriesIds.Contains(x.ArchiveSeriesId)).ToListAsync(cancellation))
            .GroupBy(r => r.ArchiveSeriesId).ToDictionary(g => g.Key, g => g.Count());
        return [.. series.Select(s =>
        {
            var attributes = s.Retina
                ? retina.GetValueOrDefault(QidoKeys.Instance(s.StudyKey, s.ArchiveSeriesUid))
                : dicomSeries.GetValueOrDefault(QidoKeys.Series(s.StudyKey, s.SeriesInstanceUid));
            var (status, message) = ArchiveSeriesStatus.Of(s.Instances.Count, results.GetValueOrDefault(s.Id));
            return new ArchiveSeriesResponse(
                s.ArchiveSeriesUid,
                s.SopClassUid,
                ArchiveValues.Date(QidoAttributes.Date(attributes, DicomTags.SeriesDate.JsonKey())),
                ArchiveValues.Time(QidoAttributes.Time(attributes, DicomTags.SeriesTime.JsonKey())),
                QidoAttributes.First(attributes, DicomTags.SeriesDescription.JsonKey()),
                QidoAttributes.First(attributes, DicomTags.Manufacturer.JsonKey()),
                QidoAttributes.First(attributes, DicomTags.ManufacturerModelName.JsonKey()),
                status,
                message);
        })];
    }
}
