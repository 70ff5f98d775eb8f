using EventSourced.Domain.Studies;

namespace EventSourced.Application.Studies.KeyObjects;

/// <summary>
/// The study's manifest: a Key Object Selection Document titled (113030, DCM, "Manifest") as IHE XDS-I
/// uses it, referencing every visible instance of the study once (deprecated content left out).
/// </summary>
public static class StudyManifest
{
    /// <summary>The KOS request for the study as it reads now; null when no instance of it is visible.</summary>
    public static KeyObjectRequest? For(Study? study, StudyHistory history, string sopInstanceUid, string seriesInstanceUid, DateTimeOffset now)
    {
        if (study is null)
        {
            return null;
        }

        var instances = study.VisibleInstances
            .Where(i => history.LastStored.ContainsKey(i.Key))
            .OrderBy(i => i.Key, StringComparer.Ordinal)
            .Select(i => history.LastStored[i.Key].Instance)
            .ToList();
        if (instances.Count == 0)
        {
            return null;
        }

        var header = KeyObjectStudy.FromHeader(study.StudyInstanceUid, instances[^1].Header);
        if (study.CurrentPatient is { } patient)
        {
            // The identity a correction gave the study, as every read path shows it.
            header = header with
            {
                PatientId = patient.PatientId,
                IssuerOfPatientId = patient.IssuerOfPatientId,
                PatientName = patient.PatientName,
                PatientBirthDate = patient.PatientBirthDate,
                PatientSex = patient.PatientSex,
            };
        }

        return new KeyObjectRequest(header, [.. instances.Select(KeyObjectReferences.Of)], KeyObjectTitle.Manifest, sopInstanceUid, seriesInstanceUid, now)
        {
            SeriesDescription = "Manifest",
        };
    }
}
