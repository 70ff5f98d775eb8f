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
/// attributes have a duplicated, indexed column (or, for the list-valued ones, a jsonb array under the
/// document's GIN index); any other string attribute of the level is matched on the DICOM JSON kept in
/// the document (Attributes / Header), without an index.
/// </summary>
public sealed record QidoKey(string Tag, string Keyword, DicomVR VR, QidoLevel Level, QidoMatchKind Kind, string? Column = null, string? FuzzyColumn = null, string? JsonList = null)
{
    /// <summary>The SQL expression of the value for a row aliased <paramref name="alias"/>.</summary>
    public string Expression(string alias) => Column is not null
        ? $"{alias}.{Column}"
        : Kind == QidoMatchKind.PersonName
            ? $"({alias}.data -> '{JsonRoot}' -> '{Tag}' -> 'Value' -> 0 ->> 'Alphabetic')"
            : $"({alias}.data -> '{JsonRoot}' -> '{Tag}' -> 'Value' ->> 0)";

    private string JsonRoot => Level == QidoLevel.Instance ? "Header" : "Attributes";
}

public static class QidoKeyCatalog
{
    private static readonly QidoKey[] Catalogued =
    [
        new("00100020", "PatientID", DicomVR.LO, QidoLevel.Study, QidoMatchKind.Text, "patient_id"),
        new("00100010", "PatientName", DicomVR.PN, QidoLevel.Study, QidoMatchKind.PersonName, "patient_name", "patient_name_fuzzy"),
        new("00100030", "PatientBirthDate", DicomVR.DA, QidoLevel.Study, QidoMatchKind.Date, "patient_birth_date"),
        new("00100040", "PatientSex", DicomVR.CS, QidoLevel.Study, QidoMatchKind.Text, "patient_sex"),
        new("0020000D", "StudyInstanceUID", DicomVR.UI, QidoLevel.Study, QidoMatchKind.Uid, "study_instance_uid"),
        new("00080020", "StudyDate", DicomVR.DA, QidoLevel.Study, QidoMatchKind.Date, "study_date"),
        new("00080030", "StudyTime", DicomVR.TM, QidoLevel.Study, QidoMatchKind.Time, "study_time"),
        new("00080050", "AccessionNumber", DicomVR.SH, QidoLevel.Study, QidoMatchKind.Text, "accession_number"),
        new("00200010", "StudyID", DicomVR.SH, QidoLevel.Study, QidoMatchKind.Text, "study_id"),
        new("00080090", "ReferringPhysicianName", DicomVR.PN, QidoLevel.Study, QidoMatchKind.PersonName, "referring_physician_name", "referring_physician_name_fuzzy"),
        new("00081030", "StudyDescription", DicomVR.LO, QidoLevel.Study, QidoMatchKind.Text, "study_description"),
        new("00080080", "InstitutionName", DicomVR.LO, QidoLevel.Study, QidoMatchKind.Text, "institution_name"),
        new("00080061", "ModalitiesInStudy", DicomVR.CS, QidoLevel.Study, QidoMatchKind.List, JsonList: nameof(QidoStudy.ModalitiesInStudy)),
        new("00081010", "StationName", DicomVR.SH, QidoLevel.Study, QidoMatchKind.List, JsonList: nameof(QidoStudy.StationNames)),
        new("00201206", "NumberOfStudyRelatedSeries", DicomVR.IS, QidoLevel.Study, QidoMatchKind.Integer, "number_of_study_related_series"),
        new("00201208", "NumberOfStudyRelatedInstances", DicomVR.IS, QidoLevel.Study, QidoMatchKind.Integer, "number_of_study_related_instances"),
        new("0020000E", "SeriesInstanceUID", DicomVR.UI, QidoLevel.Series, QidoMatchKind.Uid, "series_instance_uid"),
        new("00080060", "Modality", DicomVR.CS, QidoLevel.Series, QidoMatchKind.Text, "modality"),
        new("00200011", "SeriesNumber", DicomVR.IS, QidoLevel.Series, QidoMatchKind.Integer, "series_number"),
        new("0008103E", "SeriesDescription", DicomVR.LO, QidoLevel.Series, QidoMatchKind.Text, "series_description"),
        new("00400244", "PerformedProcedureStepStartDate", DicomVR.DA, QidoLevel.Series, QidoMatchKind.Date, "performed_procedure_step_start_date"),
        new("00400245", "PerformedProcedureStepStartTime", DicomVR.TM, QidoLevel.Series, QidoMatchKind.Time, "performed_procedure_step_start_time"),
        new("00201209", "NumberOfSeriesRelatedInstances", DicomVR.IS, QidoLevel.Series, QidoMatchKind.Integer, "number_of_series_related_instances"),
        new("00080018", "SOPInstanceUID", DicomVR.UI, QidoLevel.Instance, QidoMatchKind.Uid, "sop_instance_uid"),
        new("00080016", "SOPClassUID", DicomVR.UI, QidoLevel.Instance, QidoMatchKind.Uid, "sop_class_uid"),
        new("00200013", "InstanceNumber", DicomVR.IS, QidoLevel.Instance, QidoMatchKind.Integer, "instance_number"),
    ];

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

    public static string TagText(DicomTag tag) => tag.Value.ToString("X8", CultureInfo.InvariantCulture);

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

        var text = TagText(tag);
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
