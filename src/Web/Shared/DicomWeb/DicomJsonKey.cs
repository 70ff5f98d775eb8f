using System.Globalization;
using EventSourced.Dicom;

namespace EventSourced.Web.Shared.DicomWeb;

public static class DicomJsonKey
{
    /// <summary>The tag as a DICOM JSON attribute name: eight upper-case hex digits (PS3.18 §F.2.1.1).</summary>
    public static string JsonKey(this DicomTag tag) => tag.Value.ToString("X8", CultureInfo.InvariantCulture);
}
