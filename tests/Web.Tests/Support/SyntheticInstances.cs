using EventSourced.Dicom;

namespace EventSourced.Web.Tests.Support;

/// <summary>Real DICOM files with fresh UIDs: pydicom's CT_small.dcm re-identified and re-written by our codec.</summary>
public static class SyntheticInstances
{
    private static readonly Lazy<byte[]> Template = new(() => Multipart.Corpus("CT_small.dcm"));

    public static (byte[] Bytes, string Study, string Series, string Sop) Create(string? study = null)
    {
        var file = DicomReader.Read(Template.Value);
        study ??= DicomUid.Generate();
        var series = DicomUid.Generate();
        var sop = DicomUid.Generate();
        file.Dataset.AddString(DicomTag.StudyInstanceUID, DicomVR.UI, study);
        file.Dataset.AddString(DicomTag.SeriesInstanceUID, DicomVR.UI, series);
        file.Dataset.AddString(DicomTag.SOPInstanceUID, DicomVR.UI, sop);
        return (DicomWriter.ToBytes(file), study, series, sop);
    }
}
