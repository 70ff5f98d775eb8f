namespace EventSourced.Web.DicomWeb;

/// <summary>Media types of PS3.18 §8.7.</summary>
public static class DicomWebMediaTypes
{
    public const string DicomJson = "application/dicom+json";
    public const string Dicom = "application/dicom";
    public const string MultipartRelated = "multipart/related";
}
