using System.Globalization;

namespace EventSourced.Dicom;

/// <summary>A data element tag (group, element), PS3.5 §7.1.1.</summary>
public readonly record struct DicomTag(uint Value) : IComparable<DicomTag>
{
    public DicomTag(ushort group, ushort element) : this(((uint)group << 16) | element) { }

    public ushort Group => (ushort)(Value >> 16);
    public ushort Element => (ushort)Value;

    /// <summary>Odd groups other than 0001, 0003, 0005, 0007 and FFFF are private (PS3.5 §7.8.1).</summary>
    public bool IsPrivate => (Group & 1) == 1 && Group > 0x0008 && Group != 0xFFFF;

    /// <summary>(gggg,0010)-(gggg,00FF) in a private group reserve blocks (PS3.5 §7.8.1).</summary>
    public bool IsPrivateCreator => IsPrivate && Element >= 0x0010 && Element <= 0x00FF;

    public int CompareTo(DicomTag other) => Value.CompareTo(other.Value);

    /// <summary>The tag as a DICOM JSON attribute name: eight upper-case hex digits, e.g. <c>0020000D</c> (PS3.18 §F.2.1.1).</summary>
    public string JsonKey() => Value.ToString("X8", CultureInfo.InvariantCulture);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({Group:X4},{Element:X4})");

    public static DicomTag Parse(string text)
    {
        var s = text.Trim().TrimStart('(').TrimEnd(')').Replace(",", "", StringComparison.Ordinal);
        if (s.Length != 8 || !uint.TryParse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v))
        {
            throw new FormatException($"'{text}' is not a tag");
        }
        return new DicomTag(v);
    }

    public static readonly DicomTag Item = new(0xFFFEE000);
    public static readonly DicomTag ItemDelimitationItem = new(0xFFFEE00D);
    public static readonly DicomTag SequenceDelimitationItem = new(0xFFFEE0DD);
    public static readonly DicomTag FileMetaInformationGroupLength = new(0x00020000);
    public static readonly DicomTag FileMetaInformationVersion = new(0x00020001);
    public static readonly DicomTag MediaStorageSOPClassUID = new(0x00020002);
    public static readonly DicomTag MediaStorageSOPInstanceUID = new(0x00020003);
    public static readonly DicomTag TransferSyntaxUID = new(0x00020010);
    public static readonly DicomTag ImplementationClassUID = new(0x00020012);
    public static readonly DicomTag ImplementationVersionName = new(0x00020013);
    public static readonly DicomTag SpecificCharacterSet = new(0x00080005);
    public static readonly DicomTag SOPClassUID = new(0x00080016);
    public static readonly DicomTag SOPInstanceUID = new(0x00080018);
    public static readonly DicomTag StudyInstanceUID = new(0x0020000D);
    public static readonly DicomTag SeriesInstanceUID = new(0x0020000E);
    public static readonly DicomTag PatientName = new(0x00100010);
    public static readonly DicomTag PatientID = new(0x00100020);
    public static readonly DicomTag Rows = new(0x00280010);
    public static readonly DicomTag Columns = new(0x00280011);
    public static readonly DicomTag PixelRepresentation = new(0x00280103);
    public static readonly DicomTag ExtendedOffsetTable = new(0x7FE00001);
    public static readonly DicomTag ExtendedOffsetTableLengths = new(0x7FE00002);
    public static readonly DicomTag PixelData = new(0x7FE00010);
}
