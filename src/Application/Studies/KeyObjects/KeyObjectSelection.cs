using System.Globalization;
using System.Text.Json;
using EventSourced.Dicom;

namespace EventSourced.Application.Studies.KeyObjects;

/// <summary>A coded document title (PS3.3 C.17.3, CID 7010 "Key Object Selection Document Title").</summary>
public sealed record KeyObjectTitle(string CodeValue, string CodingSchemeDesignator, string CodeMeaning)
{
    /// <summary>(113030, DCM, "Manifest"): the title an IHE XDS-I imaging manifest carries.</summary>
    public static readonly KeyObjectTitle Manifest = new("113030", "DCM", "Manifest");

    /// <summary>(113001, DCM, "Rejected for Quality Reasons"): the IHE IOCM rejection note.</summary>
    public static readonly KeyObjectTitle RejectedForQualityReasons = new("113001", "DCM", "Rejected for Quality Reasons");
}

/// <summary>One referenced SOP instance. Image instances are referenced by IMAGE content items, the rest by COMPOSITE (TID 2010).</summary>
public sealed record KeyObjectReference(string SeriesInstanceUid, string SopClassUid, string SopInstanceUid, bool IsImage);

/// <summary>Patient and study attributes the KOS repeats (Patient and General Study modules), as DICOM strings.</summary>
public sealed record KeyObjectStudy(string StudyInstanceUid)
{
    public string? PatientName { get; init; }
    public string? PatientId { get; init; }
    public string? IssuerOfPatientId { get; init; }
    public string? PatientBirthDate { get; init; }
    public string? PatientSex { get; init; }
    public string? StudyDate { get; init; }
    public string? StudyTime { get; init; }
    public string? ReferringPhysicianName { get; init; }
    public string? StudyId { get; init; }
    public string? AccessionNumber { get; init; }
    public string? StudyDescription { get; init; }

    /// <summary>From an instance's DICOM JSON header (PS3.18 Annex F) as the study events carry it.</summary>
    public static KeyObjectStudy FromHeader(string studyInstanceUid, JsonElement header) => new(studyInstanceUid)
    {
        PatientName = First(header, DicomTags.PatientName.JsonKey()),
        PatientId = First(header, DicomTags.PatientID.JsonKey()),
        IssuerOfPatientId = First(header, DicomTags.IssuerOfPatientID.JsonKey()),
        PatientBirthDate = First(header, DicomTags.PatientBirthDate.JsonKey()),
        PatientSex = First(header, DicomTags.PatientSex.JsonKey()),
        StudyDate = First(header, DicomTags.StudyDate.JsonKey()),
        StudyTime = First(header, DicomTags.StudyTime.JsonKey()),
        ReferringPhysicianName = First(header, DicomTags.ReferringPhysicianName.JsonKey()),
        StudyId = First(header, DicomTags.StudyID.JsonKey()),
        AccessionNumber = First(header, DicomTags.AccessionNumber.JsonKey()),
        StudyDescription = First(header, DicomTags.StudyDescription.JsonKey()),
    };

    private static string? First(JsonElement header, string tag)
    {
        if (header.ValueKind != JsonValueKind.Object
            || !header.TryGetProperty(tag, out var attribute)
            || !attribute.TryGetProperty("Value", out var values)
            || values.ValueKind != JsonValueKind.Array
            || values.GetArrayLength() == 0)
        {
            return null;
        }

        var value = values[0];
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.Object when value.TryGetProperty("Alphabetic", out var alphabetic) => alphabetic.GetString(),
            _ => null,
        };
    }
}

/// <summary>What a Key Object Selection Document is built from: the study, the references, its title and its own identity.</summary>
public sealed record KeyObjectRequest(
    KeyObjectStudy Study,
    IReadOnlyList<KeyObjectReference> References,
    KeyObjectTitle Title,
    string SopInstanceUid,
    string SeriesInstanceUid,
    DateTimeOffset CreatedAt)
{
    public int SeriesNumber { get; init; } = 9999;
    public int InstanceNumber { get; init; } = 1;
    public string? SeriesDescription { get; init; }
}

/// <summary>
/// Builds a Key Object Selection Document (PS3.3 A.35.4, SOP class 1.2.840.10008.5.1.4.1.1.88.59) with
/// our codec: Patient, General Study, Key Object Document Series, General Equipment, Key Object Document
/// (the Current Requested Procedure Evidence Sequence lists every referenced instance, study → series →
/// SOP, which is what an IHE XDS-I.b manifest needs), SR Document Content following TID 2010 (one
/// CONTAINS item per instance) and SOP Common. Pure: the same request gives the same bytes.
/// </summary>
public static class KeyObjectSelection
{
    public const string SopClassUid = "1.2.840.10008.5.1.4.1.1.88.59";

    public static DicomDataset BuildDataset(KeyObjectRequest request)
    {
        if (request.References.Count == 0)
        {
            throw new ArgumentException("A Key Object Selection Document references at least one instance (TID 2010).", nameof(request));
        }

        var study = request.Study;
        var at = request.CreatedAt.ToUniversalTime();
        var date = at.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var time = at.ToString("HHmmss", CultureInfo.InvariantCulture);

        var ds = new DicomDataset();
        ds.AddString(DicomTags.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");

        // SOP Common (C.12.1)
        ds.AddString(DicomTags.SOPClassUID, DicomVR.UI, SopClassUid);
        ds.AddString(DicomTags.SOPInstanceUID, DicomVR.UI, request.SopInstanceUid);
        ds.AddString(DicomTags.InstanceCreationDate, DicomVR.DA, date);
        ds.AddString(DicomTags.InstanceCreationTime, DicomVR.TM, time);

        // General Study (C.7.2.1): type 2 attributes present, empty when unknown.
        ds.AddString(DicomTags.StudyInstanceUID, DicomVR.UI, study.StudyInstanceUid);
        ds.AddString(DicomTags.StudyDate, DicomVR.DA, study.StudyDate ?? "");
        ds.AddString(DicomTags.StudyTime, DicomVR.TM, study.StudyTime ?? "");
        ds.AddString(DicomTags.ReferringPhysicianName, DicomVR.PN, study.ReferringPhysicianName ?? "");
        ds.AddString(DicomTags.StudyID, DicomVR.SH, study.StudyId ?? "");
        ds.AddString(DicomTags.AccessionNumber, DicomVR.SH, study.AccessionNumber ?? "");
        if (study.StudyDescription is { Length: > 0 } description)
        {
            ds.AddString(DicomTags.StudyDescription, DicomVR.LO, description);
        }

        // Patient (C.7.1.1)
        ds.AddString(DicomTags.PatientName, DicomVR.PN, study.PatientName ?? "");
        ds.AddString(DicomTags.PatientID, DicomVR.LO, study.PatientId ?? "");
        if (study.IssuerOfPatientId is { Length: > 0 } issuer)
        {
            ds.AddString(DicomTags.IssuerOfPatientID, DicomVR.LO, issuer);
        }

        ds.AddString(DicomTags.PatientBirthDate, DicomVR.DA, study.PatientBirthDate ?? "");
        ds.AddString(DicomTags.PatientSex, DicomVR.CS, study.PatientSex ?? "");

        // Key Object Document Series (C.17.6.1)
        ds.AddString(DicomTags.Modality, DicomVR.CS, "KO");
        ds.AddString(DicomTags.SeriesInstanceUID, DicomVR.UI, request.SeriesInstanceUid);
        ds.AddString(DicomTags.SeriesNumber, DicomVR.IS, request.SeriesNumber.ToString(CultureInfo.InvariantCulture));
        if (request.SeriesDescription is { Length: > 0 } seriesDescription)
        {
            ds.AddString(DicomTags.SeriesDescription, DicomVR.LO, seriesDescription);
        }

        ds.Set(DicomElement.Sequence(DicomTags.ReferencedPerformedProcedureStepSequence, []));

        // General Equipment (C.7.5.1)
        ds.AddString(DicomTags.Manufacturer, DicomVR.LO, "EventSourced");

        // Key Object Document (C.17.6.2)
        ds.AddString(DicomTags.InstanceNumber, DicomVR.IS, request.InstanceNumber.ToString(CultureInfo.InvariantCulture));
        ds.AddString(DicomTags.ContentDate, DicomVR.DA, date);
        ds.AddString(DicomTags.ContentTime, DicomVR.TM, time);
        ds.Set(DicomElement.Sequence(DicomTags.CurrentRequestedProcedureEvidenceSequence, [Evidence(ds, request)]));

        // SR Document Content (C.17.3) per TID 2010: the root CONTAINER titled by the document title.
        ds.AddString(DicomTags.ValueType, DicomVR.CS, "CONTAINER");
        ds.Set(DicomElement.Sequence(DicomTags.ConceptNameCodeSequence, [Code(ds, request.Title)]));
        ds.AddString(DicomTags.ContinuityOfContent, DicomVR.CS, "SEPARATE");
        var template = new DicomDataset(ds);
        template.AddString(DicomTags.MappingResource, DicomVR.CS, "DCMR");
        template.AddString(DicomTags.TemplateIdentifier, DicomVR.CS, "2010");
        ds.Set(DicomElement.Sequence(DicomTags.ContentTemplateSequence, [template]));
        ds.Set(DicomElement.Sequence(DicomTags.ContentSequence, request.References.Select(r => ContentItem(ds, r)).ToList()));
        return ds;
    }

    /// <summary>The Part 10 file, Explicit VR Little Endian.</summary>
    public static byte[] Build(KeyObjectRequest request) =>
        DicomWriter.ToBytes(new DicomFile(new DicomDataset(), BuildDataset(request), DicomTransferSyntax.ExplicitVRLittleEndian));

    private static DicomDataset Evidence(DicomDataset parent, KeyObjectRequest request)
    {
        var studyItem = new DicomDataset(parent);
        studyItem.AddString(DicomTags.StudyInstanceUID, DicomVR.UI, request.Study.StudyInstanceUid);
        var series = request.References
            .GroupBy(r => r.SeriesInstanceUid, StringComparer.Ordinal)
            .Select(group =>
            {
                var seriesItem = new DicomDataset(studyItem);
                seriesItem.AddString(DicomTags.SeriesInstanceUID, DicomVR.UI, group.Key);
                seriesItem.Set(DicomElement.Sequence(DicomTags.ReferencedSOPSequence, group.Select(r => SopReference(seriesItem, r)).ToList()));
                return seriesItem;
            })
            .ToList();
        studyItem.Set(DicomElement.Sequence(DicomTags.ReferencedSeriesSequence, series));
        return studyItem;
    }

    private static DicomDataset ContentItem(DicomDataset parent, KeyObjectReference reference)
    {
        var item = new DicomDataset(parent);
        item.AddString(DicomTags.RelationshipType, DicomVR.CS, "CONTAINS");
        item.AddString(DicomTags.ValueType, DicomVR.CS, reference.IsImage ? "IMAGE" : "COMPOSITE");
        item.Set(DicomElement.Sequence(DicomTags.ReferencedSOPSequence, [SopReference(item, reference)]));
        return item;
    }

    private static DicomDataset SopReference(DicomDataset parent, KeyObjectReference reference)
    {
        var item = new DicomDataset(parent);
        item.AddString(DicomTags.ReferencedSOPClassUID, DicomVR.UI, reference.SopClassUid);
        item.AddString(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, reference.SopInstanceUid);
        return item;
    }

    private static DicomDataset Code(DicomDataset parent, KeyObjectTitle title)
    {
        var item = new DicomDataset(parent);
        item.AddString(DicomTags.CodeValue, DicomVR.SH, title.CodeValue);
        item.AddString(DicomTags.CodingSchemeDesignator, DicomVR.SH, title.CodingSchemeDesignator);
        item.AddString(DicomTags.CodeMeaning, DicomVR.LO, title.CodeMeaning);
        return item;
    }
}

/// <summary>References to stored instances.</summary>
public static class KeyObjectReferences
{
    /// <summary>An instance with Rows (0028,0010) is an image (IMAGE content item); others are COMPOSITE.</summary>
    public static KeyObjectReference Of(Domain.Studies.StoredInstance instance) => new(
        instance.SeriesInstanceUid,
        instance.SopClassUid,
        instance.SopInstanceUid,
        instance.Header.ValueKind == JsonValueKind.Object && instance.Header.TryGetProperty(DicomTags.Rows.JsonKey(), out _));
}
