namespace EventSourced.Dicom;

/// <summary>Value representations of PS3.5 §6.2; the numeric value packs the two ASCII characters.</summary>
public enum DicomVR : ushort
{
    None = 0,
    AE = ('A' << 8) | 'E', AS = ('A' << 8) | 'S', AT = ('A' << 8) | 'T', CS = ('C' << 8) | 'S',
    DA = ('D' << 8) | 'A', DS = ('D' << 8) | 'S', DT = ('D' << 8) | 'T', FD = ('F' << 8) | 'D',
    FL = ('F' << 8) | 'L', IS = ('I' << 8) | 'S', LO = ('L' << 8) | 'O', LT = ('L' << 8) | 'T',
    OB = ('O' << 8) | 'B', OD = ('O' << 8) | 'D', OF = ('O' << 8) | 'F', OL = ('O' << 8) | 'L',
    OV = ('O' << 8) | 'V', OW = ('O' << 8) | 'W', PN = ('P' << 8) | 'N', SH = ('S' << 8) | 'H',
    SL = ('S' << 8) | 'L', SQ = ('S' << 8) | 'Q', SS = ('S' << 8) | 'S', ST = ('S' << 8) | 'T',
    SV = ('S' << 8) | 'V', TM = ('T' << 8) | 'M', UC = ('U' << 8) | 'C', UI = ('U' << 8) | 'I',
    UL = ('U' << 8) | 'L', UN = ('U' << 8) | 'N', UR = ('U' << 8) | 'R', US = ('U' << 8) | 'S',
    UT = ('U' << 8) | 'T', UV = ('U' << 8) | 'V',
}

public static class DicomVRInfo
{
    /// <summary>Maps two bytes to a VR; None when they name no VR of PS3.5 Table 6.2-1.</summary>
    public static DicomVR FromBytes(byte a, byte b)
    {
        var vr = (DicomVR)((a << 8) | b);
        return IsKnown(vr) ? vr : DicomVR.None;
    }

    public static bool IsKnown(DicomVR vr) => vr switch
    {
        DicomVR.AE or DicomVR.AS or DicomVR.AT or DicomVR.CS or DicomVR.DA or DicomVR.DS or DicomVR.DT or DicomVR.FD
            or DicomVR.FL or DicomVR.IS or DicomVR.LO or DicomVR.LT or DicomVR.OB or DicomVR.OD or DicomVR.OF
            or DicomVR.OL or DicomVR.OV or DicomVR.OW or DicomVR.PN or DicomVR.SH or DicomVR.SL or DicomVR.SQ
            or DicomVR.SS or DicomVR.ST or DicomVR.SV or DicomVR.TM or DicomVR.UC or DicomVR.UI or DicomVR.UL
            or DicomVR.UN or DicomVR.UR or DicomVR.US or DicomVR.UT or DicomVR.UV => true,
        _ => false,
    };

    /// <summary>VRs whose explicit-VR header has a 16-bit length (PS3.5 §7.1.2, Table 7.1-2).</summary>
    public static bool HasShortLength(DicomVR vr) => vr switch
    {
        DicomVR.AE or DicomVR.AS or DicomVR.AT or DicomVR.CS or DicomVR.DA or DicomVR.DS or DicomVR.DT
            or DicomVR.FL or DicomVR.FD or DicomVR.IS or DicomVR.LO or DicomVR.LT or DicomVR.PN or DicomVR.SH
            or DicomVR.SL or DicomVR.SS or DicomVR.ST or DicomVR.TM or DicomVR.UI or DicomVR.UL or DicomVR.US => true,
        _ => false,
    };

    /// <summary>Character-string VRs (PS3.5 §6.2).</summary>
    public static bool IsString(DicomVR vr) => vr switch
    {
        DicomVR.AE or DicomVR.AS or DicomVR.CS or DicomVR.DA or DicomVR.DS or DicomVR.DT or DicomVR.IS
            or DicomVR.LO or DicomVR.LT or DicomVR.PN or DicomVR.SH or DicomVR.ST or DicomVR.TM or DicomVR.UC
            or DicomVR.UI or DicomVR.UR or DicomVR.UT => true,
        _ => false,
    };

    /// <summary>String VRs whose values are affected by (0008,0005) (PS3.5 §6.1.2.3); the rest are default repertoire.</summary>
    public static bool UsesSpecificCharset(DicomVR vr) => vr is DicomVR.LO or DicomVR.LT or DicomVR.PN or DicomVR.SH
        or DicomVR.ST or DicomVR.UC or DicomVR.UT;

    /// <summary>LT, ST, UT, UR are single-valued: backslash is text, not a delimiter (PS3.5 §6.2).</summary>
    public static bool IsMultiValuedString(DicomVR vr) => IsString(vr) && vr is not (DicomVR.LT or DicomVR.ST or DicomVR.UT or DicomVR.UR);

    /// <summary>Size in bytes of one binary value, or 0 for strings, SQ, OB and UN.</summary>
    public static int BinaryUnitSize(DicomVR vr) => vr switch
    {
        DicomVR.US or DicomVR.SS or DicomVR.OW or DicomVR.AT => 2,
        DicomVR.UL or DicomVR.SL or DicomVR.FL or DicomVR.OF or DicomVR.OL => 4,
        DicomVR.FD or DicomVR.OD or DicomVR.SV or DicomVR.UV or DicomVR.OV => 8,
        _ => 0,
    };

    /// <summary>UI and binary OB pad with NUL, other strings with space (PS3.5 §6.2).</summary>
    public static byte PaddingByte(DicomVR vr) => vr is DicomVR.UI or DicomVR.OB or DicomVR.UN ? (byte)0 : (byte)' ';

    public static string Code(DicomVR vr) => vr == DicomVR.None ? "UN" : string.Create(2, vr, static (s, v) =>
    {
        s[0] = (char)((ushort)v >> 8);
        s[1] = (char)((ushort)v & 0xFF);
    });

    public static DicomVR Parse(string code) =>
        code.Length == 2 ? FromBytes((byte)code[0], (byte)code[1]) : DicomVR.None;
}
