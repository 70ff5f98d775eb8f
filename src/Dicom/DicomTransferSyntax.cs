namespace EventSourced.Dicom;

/// <summary>A transfer syntax as far as the data set encoding goes (PS3.5 §10, Annex A).</summary>
public sealed record DicomTransferSyntax(string Uid, bool ExplicitVR, bool BigEndian, bool Deflated, bool Encapsulated)
{
    public static readonly DicomTransferSyntax ImplicitVRLittleEndian = new("1.2.840.10008.1.2", false, false, false, false);
    public static readonly DicomTransferSyntax ExplicitVRLittleEndian = new("1.2.840.10008.1.2.1", true, false, false, false);
    public static readonly DicomTransferSyntax DeflatedExplicitVRLittleEndian = new("1.2.840.10008.1.2.1.99", true, false, true, false);
    public static readonly DicomTransferSyntax ExplicitVRBigEndian = new("1.2.840.10008.1.2.2", true, true, false, false);

    /// <summary>
    /// Maps a UID to its encoding. Every other syntax in PS3.5 Annex A (JPEG, JPEG-LS, JPEG 2000, RLE,
    /// MPEG, HTJ2K …) is explicit VR little endian with encapsulated pixel data (PS3.5 §A.4);
    /// unknown UIDs are assumed to be so too, as DCMTK does for private syntaxes.
    /// </summary>
    public static DicomTransferSyntax FromUid(string uid) => uid.TrimEnd('\0', ' ') switch
    {
        "1.2.840.10008.1.2" => ImplicitVRLittleEndian,
        "1.2.840.10008.1.2.1" => ExplicitVRLittleEndian,
        "1.2.840.10008.1.2.1.99" => DeflatedExplicitVRLittleEndian,
        "1.2.840.10008.1.2.2" => ExplicitVRBigEndian,
        var other => new DicomTransferSyntax(other, true, false, false, true),
    };
}
