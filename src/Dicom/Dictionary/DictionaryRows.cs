using System.Globalization;
using System.Text;

namespace EventSourced.Dicom;

/// <summary>
/// Reads the generated dictionary tables: one row per line, fields separated by '|'. The tables are UTF-8 data in
/// the assembly rather than code creating each entry, so the JIT compiles a small loop instead of a method of
/// thousands of object creations (which cost it some 50 MB of scratch memory that the process kept).
/// </summary>
internal ref struct DictionaryRows(ReadOnlySpan<byte> table)
{
    private ReadOnlySpan<byte> rest = table;
    private ReadOnlySpan<byte> row;

    /// <summary>Moves to the next non-empty row.</summary>
    public bool MoveNext()
    {
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf((byte)'\n');
            row = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            row = row.TrimEnd((byte)'\r');
            if (!row.IsEmpty)
            {
                return true;
            }
        }
        return false;
    }

    public string Text() => Encoding.UTF8.GetString(Field());

    public int Int() => int.Parse(Field(), NumberStyles.None, CultureInfo.InvariantCulture);

    public uint Hex() => uint.Parse(Field(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    public char Char() => (char)Field()[0];

    /// <summary>A VR by its two letters; an empty field is <see cref="DicomVR.None"/>.</summary>
    public DicomVR VR()
    {
        var field = Field();
        if (field.IsEmpty)
        {
            return DicomVR.None;
        }
        var vr = field.Length == 2 ? (DicomVR)((field[0] << 8) | field[1]) : DicomVR.None;
        return Enum.IsDefined(vr) && vr != DicomVR.None ? vr : throw new FormatException($"not a VR: {Encoding.ASCII.GetString(field)}");
    }

    /// <summary>Keyword, VR, alternate VR, VM min, max and step: the entry fields both tables share.</summary>
    public DicomDictionaryEntry Entry(uint tag, bool hasRetired) =>
        new(tag, Text(), VR(), VR(), Int(), Int(), Int(), hasRetired && Int() == 1);

    private ReadOnlySpan<byte> Field()
    {
        var end = row.IndexOf((byte)'|');
        var field = end < 0 ? row : row[..end];
        row = end < 0 ? [] : row[(end + 1)..];
        return field;
    }
}
