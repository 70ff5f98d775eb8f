using System.Globalization;
using EventSourced.Dicom;
using EventSourced.Projections.Qido;

namespace EventSourced.Web.Shared.Qido;

/// <summary>The three query levels of PS3.18 §10.6 (and PS3.4 C.6.1.1's hierarchy).</summary>
public enum QidoLevel
{
    Study = 0,
    Series = 1,
    Instance = 2,
}

/// <summary>How a value is matched (PS3.4 C.2.2.2): by the attribute's VR and where its value is kept.</summary>
public enum QidoMatchKind
{
    Text,
    PersonName,
    Date,
    Time,
    DateTime,
    Uid,
    Integer,
    List,
}

/// <summary>
/// A matchable attribute: its tag, VR and level, and the SQL expression it is matched on. Catalogued
/// attributes have a duplicated, indexed column (for the list-valued ones a <c>text[]</c> column under a
/// GIN index); any other string attribute of the level is matched on the DICOM JSON kept in the
/// document (Attributes / Header), without an index.
/// </summary>
public sealed record QidoKey(string Tag, string Keyword, DicomVR VR, QidoLevel Level, QidoMatchKind Kind, string? Column = null, string? FuzzyColumn = null)
{
    /// <summary>The SQL expression of the value for a row aliased <paramref name="alias"/>.</summary>
    public string Expression(string alias) => Column is not null
        ? $"{alias}.{Column}"
        : Kind == QidoMatchKind.PersonName
            ? $"({JsonRoot(alias)} -> '{Tag}' -> 'Value' -> 0 ->> 'Alphabetic')"
            : $"({JsonRoot(alias)} -> '{Tag}' -> 'Value' ->> 0)";

    /// <summary>The DICOM JSON the level keeps in its document: an instance's header (stored as text), a study's or series' attributes.</summary>
    private string JsonRoot(string alias) => Level == QidoLevel.Instance ? QidoInstance.HeaderJson(alias) : $"{alias}.data -> 'Attributes'";
}

public static class QidoKeyCatalog
{
    private static readonly QidoKey[] Catalogued =
    [
        Key(DicomTags.PatientID, DicomVR.LO, QidoLevel.Study, QidoMatchKind.Text, "patient_id"),
        Key(DicomTags.PatientName, DicomVR.PN, QidoLevel.Study, QidoMatchKind.PersonName, "patient_name", "patient_name_fuzzy"),
        Key(DicomTags.PatientBirthDate, DicomVR.DA, QidoLevel.Study, QidoMatchKind.Date, "patient_birth_date"),
        Key(DicomTags.PatientSex, DicomVR.CS, QidoLevel.Study, QidoMatchKind.Text, "patient_sex"),
        Key(DicomTags.StudyInstanceUID, DicomVR.UI, QidoLevel.Study, QidoMatchKind.Uid, "study_instance_uid"),
        Key(DicomTags.StudyDate, DicomVR.DA, QidoLevel.Study, QidoMatchKind.Date, "study_date"),
        Key(DicomTags.StudyTime, DicomVR.TM, QidoLevel.Study, QidoMatchKind.Time, "study_time"),
        Key(DicomTags.AccessionNumber, DicomVR.SH, QidoLevel.Study, QidoMatchKind.Text, "accession_number"),
        Key(DicomTags.StudyID, DicomVR.SH, QidoLevel.Study, QidoMatchKind.Text, "study_id"),
        Key(DicomTags.ReferringPhysicianName, DicomVR.PN, QidoLevel.Study, QidoMatchKind.PersonName, "referring_physician_name", "referring_physician_name_fuzzy"),
        Key(DicomTags.StudyDescription, DicomVR.LO, QidoLevel.Study, QidoMatchKind.Text, "study_description"),
        Key(DicomTags.InstitutionName, DicomVR.LO, QidoLevel.Study, QidoMatchKind.Text, "institution_name"),
        Key(DicomTags.ModalitiesInStudy, DicomVR.CS, QidoLevel.Study, QidoMatchKind.List, "modalities_in_study"),
        Key(DicomTags.StationName, DicomVR.SH, QidoLevel.Study, QidoMatchKind.List, "station_names"),
        Key(DicomTags.NumberOfStudyRelatedSeries, DicomVR.IS, QidoLevel.Study, QidoMatchKind.Integer, "number_of_study_related_series"),
        Key(DicomTags.NumberOfStudyRelatedInstances, DicomVR.IS, QidoLevel.Study, QidoMatchKind.Integer, "number_of_study_related_instances"),
        Key(DicomTags.SeriesInstanceUID, DicomVR.UI, QidoLevel.Series, QidoMatchKind.Uid, "series_instance_uid"),
        Key(DicomTags.Modality, DicomVR.CS, QidoLevel.Series, QidoMatchKind.Text, "modality"),
        Key(DicomTags.SeriesNumber, DicomVR.IS, QidoLevel.Series, QidoMatchKind.Integer, "series_number"),
        Key(DicomTags.SeriesDescription, DicomVR.LO, QidoLevel.Series, QidoMatchKind.Text, "series_description"),
        Key(DicomTags.PerformedProcedureStepStartDate, DicomVR.DA, QidoLevel.Series, QidoMatchKind.Date, "performed_procedure_step_start_date"),
        Key(DicomTags.PerformedProcedureStepStartTime, DicomVR.TM, QidoLevel.Series, QidoMatchKind.Time, "performed_procedure_step_start_time"),
        Key(DicomTags.NumberOfSeriesRelatedInstances, DicomVR.IS, QidoLevel.Series, QidoMatchKind.Integer, "number_of_series_related_instances"),
        Key(DicomTags.SOPInstanceUID, DicomVR.UI, QidoLevel.Instance, QidoMatchKind.Uid, "sop_instance_uid"),
        Key(DicomTags.SOPClassUID, DicomVR.UI, QidoLevel.Instance, QidoMatchKind.Uid, "sop_class_uid"),
        Key(DicomTags.InstanceNumber, DicomVR.IS, QidoLevel.Instance, QidoMatchKind.Integer, "instance_number"),
    ];

    private static QidoKey Key(DicomTag tag, DicomVR vr, QidoLevel level, QidoMatchKind kind, string? column = null, string? fuzzyColumn = null) =>
        new(tag.JsonKey(), DicomDictionary.KeywordOf(tag)!, vr, level, kind, column, fuzzyColumn);

    private static readonly Dictionary<string, QidoKey> ByTag = Catalogued.ToDictionary(k => k.Tag, StringComparer.Ordinal);

    public static IEnumerable<QidoKey> All => Catalogued;

    /// <summary>A tag given as a keyword (<c>PatientID</c>) or as eight hex digits (<c>00100020</c>), or null.</summary>
    public static DicomTag? ParseTag(string attribute)
    {
        if (attribute.Length == 8 && uint.TryParse(attribute, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return new DicomTag(value);
        }

        return DicomDictionary.TagOf(attribute);
    }

    /// <summary>The matchable key for an attribute, or the reason it cannot be matched.</summary>
    public static (QidoKey? Key, string? Error) Resolve(string attribute)
    {
        if (attribute.Contains('.', StringComparison.Ordinal))
        {
            return (null, $"'{attribute}': matching on attributes inside sequences is not supported.");
        }

        if (ParseTag(attribute) is not { } tag)
        {
            return (null, $"'{attribute}' is not a DICOM attribute keyword or tag.");
        }

        var text = tag.JsonKey();
        if (ByTag.TryGetValue(text, out var key))
        {
            return (key, null);
        }

        if (DicomDictionary.Lookup(tag) is not { } entry)
        {
            return (null, $"'{attribute}' ({text}) is not in the DICOM dictionary; private attributes cannot be matched.");
        }

        var kind = entry.VR switch
        {
            DicomVR.PN => QidoMatchKind.PersonName,
            DicomVR.DA => QidoMatchKind.Date,
            DicomVR.TM => QidoMatchKind.Time,
            DicomVR.DT => QidoMatchKind.DateTime,
            DicomVR.UI => QidoMatchKind.Uid,
            DicomVR.AE or DicomVR.AS or DicomVR.CS or DicomVR.DS or DicomVR.IS or DicomVR.LO or DicomVR.LT or DicomVR.SH
                or DicomVR.ST or DicomVR.UC or DicomVR.UR or DicomVR.UT => QidoMatchKind.Text,
            _ => (QidoMatchKind?)null,
        };
        if (kind is null)
        {
            return (null, $"{entry.Keyword} ({text}) has VR {DicomVRInfo.Code(entry.VR)}; only string attributes can be matched.");
        }

        return (new QidoKey(text, entry.Keyword, entry.VR, LevelOf(text), kind.Value), null);
    }

    /// <summary>The level whose document holds the attribute: the study and series attribute sets of the read models, else the instance.</summary>
    public static QidoLevel LevelOf(string tag) =>
        ByTag.TryGetValue(tag, out var key) ? key.Level
        : QidoAttributes.StudyLevel.Contains(tag) ? QidoLevel.Study
        : QidoAttributes.SeriesLevel.Contains(tag) ? QidoLevel.Series
        : QidoLevel.Instance;

    public static DicomVR VROf(string tag) =>
        ByTag.TryGetValue(tag, out var key) ? key.VR
        : DicomDictionary.Lookup(new DicomTag(uint.Parse(tag, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)))?.VR ?? DicomVR.UN;
}
