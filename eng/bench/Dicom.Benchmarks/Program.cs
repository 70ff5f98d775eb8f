using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using EventSourced.Dicom;

BenchmarkSwitcher.FromAssembly(typeof(HeaderBenchmarks).Assembly).Run(args);

/// <summary>Header parsing and DICOM JSON writing (docs/benchmarks.md, "DICOM codec").</summary>
[MemoryDiagnoser]
public class HeaderBenchmarks
{
    private const string CtSmallPath = "/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm";
    private static readonly DicomReadOptions HeaderOnly = new() { SkipPixelData = true };
    private byte[] _ctSmall = [];
    private byte[] _syntheticCt = [];
    private DicomDataset _ctSmallHeader = new();
    private DicomDataset _syntheticHeader = new();
    private readonly ArrayBufferWriter<byte> _json = new(64 * 1024);
    private Utf8JsonWriter _writer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ctSmall = File.ReadAllBytes(CtSmallPath);
        _syntheticCt = SyntheticCt();
        _ctSmallHeader = DicomReader.Read(_ctSmall, HeaderOnly).Dataset;
        _syntheticHeader = DicomReader.Read(_syntheticCt, HeaderOnly).Dataset;
        _writer = new Utf8JsonWriter(_json, new JsonWriterOptions { SkipValidation = true, MaxDepth = DicomJsonWriter.MaxJsonDepth });
    }

    [Benchmark(Description = "CT_small header parse (byte[])")]
    public int ParseCtSmall() => DicomReader.Read(_ctSmall, HeaderOnly).Dataset.Count;

    [Benchmark(Description = "512x512 16-bit CT header parse, pixel data skipped (seekable stream)")]
    public int ParseSyntheticCtStream()
    {
        using var ms = new MemoryStream(_syntheticCt, writable: false);
        return DicomReader.Read(ms, HeaderOnly).Dataset.Count;
    }

    [Benchmark(Description = "512x512 16-bit CT header parse, pixel data skipped (byte[])")]
    public int ParseSyntheticCtMemory() => DicomReader.Read(_syntheticCt, HeaderOnly).Dataset.Count;

    [Benchmark(Description = "CT_small header to DICOM JSON")]
    public long JsonCtSmall() => WriteJson(_ctSmallHeader);

    [Benchmark(Description = "512x512 CT header to DICOM JSON")]
    public long JsonSyntheticCt() => WriteJson(_syntheticHeader);

    private long WriteJson(DicomDataset ds)
    {
        _json.ResetWrittenCount();
        _writer.Reset(_json);
        DicomJsonWriter.Write(_writer, ds, DicomJsonOptions.Default);
        _writer.Flush();
        return _json.WrittenCount;
    }

    /// <summary>A CT image IOD header (Patient, Study, Series, Equipment, Image Plane/Pixel, CT Image) and 512 KiB of pixels.</summary>
    private static byte[] SyntheticCt()
    {
        var ds = new DicomDataset();
        void S(uint tag, DicomVR vr, params string[] v) => ds.AddString(new DicomTag(tag), vr, v);
        void U(uint tag, params ushort[] v) => ds.Set(new DicomElement(new DicomTag(tag), DicomVR.US, DicomValues.EncodeBinary<ushort>(v)));
        S(0x00080005, DicomVR.CS, "ISO_IR 100");
        S(0x00080008, DicomVR.CS, "ORIGINAL", "PRIMARY", "AXIAL");
        S(0x00080016, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.2");
        S(0x00080018, DicomVR.UI, DicomUid.Generate());
        S(0x00080020, DicomVR.DA, "20260101");
        S(0x00080030, DicomVR.TM, "101010.123");
        S(0x00080050, DicomVR.SH, "ACC123456");
        S(0x00080060, DicomVR.CS, "CT");
        S(0x00080070, DicomVR.LO, "Vendor");
        S(0x00080090, DicomVR.PN, "Referring^Doctor");
        S(0x00081030, DicomVR.LO, "CT CHEST WITH CONTRAST");
        S(0x0008103E, DicomVR.LO, "AXIAL 1.25mm");
        S(0x00100010, DicomVR.PN, "Doe^Jane^^Ms");
        S(0x00100020, DicomVR.LO, "PID0001");
        S(0x00100030, DicomVR.DA, "19700101");
        S(0x00100040, DicomVR.CS, "F");
        S(0x00180050, DicomVR.DS, "1.25");
        S(0x00180060, DicomVR.DS, "120");
        S(0x00181150, DicomVR.IS, "500");
        S(0x00181151, DicomVR.IS, "300");
        S(0x00185100, DicomVR.CS, "HFS");
        S(0x0020000D, DicomVR.UI, DicomUid.Generate());
        S(0x0020000E, DicomVR.UI, DicomUid.Generate());
        S(0x00200011, DicomVR.IS, "3");
        S(0x00200013, DicomVR.IS, "42");
        S(0x00200032, DicomVR.DS, "-250", "-250", "-120.5");
        S(0x00200037, DicomVR.DS, "1", "0", "0", "0", "1", "0");
        S(0x00201041, DicomVR.DS, "-120.5");
        U(0x00280002, 1);
        S(0x00280004, DicomVR.CS, "MONOCHROME2");
        U(0x00280010, 512);
        U(0x00280011, 512);
        S(0x00280030, DicomVR.DS, "0.7", "0.7");
        U(0x00280100, 16);
        U(0x00280101, 12);
        U(0x00280102, 11);
        U(0x00280103, 1);
        S(0x00281050, DicomVR.DS, "40");
        S(0x00281051, DicomVR.DS, "400");
        S(0x00281052, DicomVR.DS, "-1024");
        S(0x00281053, DicomVR.DS, "1");
        ds.Set(new DicomElement(DicomTag.PixelData, DicomVR.OW, new byte[512 * 512 * 2]));
        return DicomWriter.ToBytes(new DicomFile(new DicomDataset(), ds, DicomTransferSyntax.ExplicitVRLittleEndian));
    }
}
