using System.Globalization;
using System.Text.Json;

namespace EventSourced.Dicom.Tests;

/// <summary>Typed value parsing (PS3.5 §6.2) against pydicom's valuerep.</summary>
public class ValueTests
{
    private static string[] Py(string kind, string[] inputs)
    {
        const string script = """
            import sys, json
            from pydicom.valuerep import DA, TM, DT, IS, DSfloat
            a = json.loads(sys.argv[1])
            f = {'DA': lambda s: DA(s).isoformat(), 'TM': lambda s: TM(s).isoformat(), 'DT': lambda s: DT(s).isoformat(),
                 'IS': lambda s: str(int(IS(s))), 'DS': lambda s: repr(float(DSfloat(s)))}[a['kind']]
            print(json.dumps([f(s) for s in a['inputs']]))
            """;
        return JsonSerializer.Deserialize<string[]>(Oracles.Python3(script, JsonSerializer.Serialize(new { kind, inputs })))!;
    }

    [Fact]
    public void Dates_parse_like_pydicom()
    {
        string[] inputs = ["20040119", "19000101", "20241231", "1997.04.30"];
        Assert.Equal(Py("DA", inputs), inputs.Select(s => DicomValues.ParseDate(s).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).ToArray());
    }

    [Fact]
    public void Times_parse_like_pydicom()
    {
        string[] inputs = ["072730", "07", "0727", "072730.5", "235959.999999", "000000.000001"];
        var ours = inputs.Select(s =>
        {
            var t = DicomValues.ParseTime(s);
            return t.Ticks % TimeSpan.TicksPerSecond == 0 ? t.ToString("HH:mm:ss", CultureInfo.InvariantCulture) : t.ToString("HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        });
        Assert.Equal(Py("TM", inputs), ours.ToArray());
    }

    [Fact]
    public void Date_times_parse_like_pydicom()
    {
        string[] inputs = ["20040119072730", "20040119072730.123456+0100", "2004", "200401190727", "20040119072730-0500", "20040119072730.5"];
        var ours = inputs.Select(s =>
        {
            var d = DicomValues.ParseDateTime(s);
            var hasZone = s.Contains('+') || s.Contains('-');
            var frac = d.Ticks % TimeSpan.TicksPerSecond != 0 ? d.ToString(".ffffff", CultureInfo.InvariantCulture) : "";
            return d.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) + frac + (hasZone ? d.ToString("zzz", CultureInfo.InvariantCulture) : "");
        });
        Assert.Equal(Py("DT", inputs), ours.ToArray());
    }

    [Fact]
    public void Integer_and_decimal_strings_parse_like_pydicom()
    {
        string[] ints = ["0", "-12", "+7", " 42 ", "2147483647", "-2147483648"];
        Assert.Equal(Py("IS", ints), ints.Select(s => DicomValues.ParseIS(s).ToString(CultureInfo.InvariantCulture)).ToArray());
        string[] decimals = ["0.000000", "-1.5e3", "1099.3100585938", " 5 ", "+.5", "1E-5", "3.14159265358979"];
        var ours = decimals.Select(s => DicomValues.ParseDS(s)).ToArray();
        var theirs = Py("DS", decimals).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(theirs, ours);
        Assert.Throws<DicomFormatException>(() => DicomValues.ParseDS("abc"));
        Assert.Throws<DicomFormatException>(() => DicomValues.ParseIS("1.5"));
    }

    [Fact]
    public void Multi_valued_strings_person_names_and_tags_decode_as_pydicom_reads_CT_small()
    {
        var ds = DicomFile.Open(CorpusCase.Get("test_files/CT_small.dcm").FullPath).Dataset;
        const string script = """
            import sys, json, pydicom
            ds = pydicom.dcmread(sys.argv[1])
            pn = ds.PatientName
            print(json.dumps({'type': list(ds.ImageType), 'family': pn.family_name, 'given': pn.given_name,
                              'pos': [float(x) for x in ds.ImagePositionPatient], 'rows': ds.Rows, 'sl': ds[0x00091027].value}))
            """;
        var theirs = JsonDocument.Parse(Oracles.Python3(script, CorpusCase.Get("test_files/CT_small.dcm").FullPath)).RootElement;
        Assert.Equal(theirs.GetProperty("type").EnumerateArray().Select(e => e.GetString()), ds.GetStrings(new DicomTag(0x00080008)));
        var pn = DicomValues.GetPersonNames(ds[DicomTag.PatientName])[0];
        var components = DicomPersonName.Components(pn.Alphabetic);
        Assert.Equal(theirs.GetProperty("family").GetString(), components[0]);
        Assert.Equal(theirs.GetProperty("given").GetString(), components[1]);
        Assert.Equal(theirs.GetProperty("pos").EnumerateArray().Select(e => e.GetDouble()), DicomValues.GetDecimalStrings(ds[new DicomTag(0x00200032)]));
        Assert.Equal(theirs.GetProperty("rows").GetInt32(), (int)ds.GetValue<ushort>(DicomTag.Rows)!.Value);
        Assert.Equal(theirs.GetProperty("sl").GetInt32(), ds.GetValue<int>(new DicomTag(0x00091027))!.Value);
    }

    [Fact]
    public void Private_elements_are_found_by_creator_as_pydicom_finds_them()
    {
        var path = CorpusCase.Get("test_files/CT_small.dcm").FullPath;
        var ds = DicomFile.Open(path).Dataset;
        const string script = """
            import sys, json, pydicom
            ds = pydicom.dcmread(sys.argv[1])
            b = ds.private_block(0x0043, 'GEMS_PARM_01')
            print(json.dumps([b[0x10].tag, str(b[0x10].value), b[0x13].tag]))
            """;
        var theirs = JsonDocument.Parse(Oracles.Python3(script, path)).RootElement;
        var e = ds.FindPrivate(0x0043, "GEMS_PARM_01", 0x10)!;
        Assert.Equal(theirs[0].GetUInt32(), e.Tag.Value);
        Assert.Equal(theirs[1].GetString(), DicomValues.GetBinary<ushort>(e)[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(theirs[2].GetUInt32(), ds.FindPrivate(0x0043, "GEMS_PARM_01", 0x13)!.Tag.Value);
        Assert.Null(ds.FindPrivate(0x0043, "NO SUCH CREATOR", 0x27));
    }

    [Fact]
    public void Attribute_tags_decode_from_little_endian_pairs()
    {
        // PS3.5 §6.2 AT: (0018,00FF) is encoded 18 00 FF 00.
        var e = new DicomElement(new DicomTag(0x00209165), DicomVR.AT, new byte[] { 0x18, 0x00, 0xFF, 0x00, 0x20, 0x00, 0x32, 0x00 });
        Assert.Equal([new DicomTag(0x001800FF), new DicomTag(0x00200032)], DicomValues.GetTags(e));
    }
}
