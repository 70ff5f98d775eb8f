using BenchmarkDotNet.Attributes;
using EventSourced.Dicom;
using EventSourced.Dicom.Imaging;

/// <summary>JPEG encoding and rendering (docs/benchmarks.md, "Rendering").</summary>
[MemoryDiagnoser]
public class RenderingBenchmarks
{
    private const string ImageDfl = "/usr/lib/python3/dist-packages/pydicom/data/test_files/image_dfl.dcm";
    private readonly MemoryStream _out = new(1 << 20);
    private byte[] _grey = [];
    private byte[] _rgb = [];
    private DicomDataset _ct = new();
    private static readonly JpegEncoderOptions Q90 = new() { Quality = 90 };

    [GlobalSetup]
    public void Setup()
    {
        // A real 512×512 8-bit greyscale image (pydicom's image_dfl.dcm) rendered with its min/max.
        _grey = DicomRenderer.Render(DicomFile.Open(ImageDfl).Dataset).Pixels;
        _rgb = new byte[512 * 512 * 3];
        for (var i = 0; i < 512 * 512; i++)
        {
            _rgb[3 * i] = _grey[i];
            _rgb[3 * i + 1] = (byte)(255 - _grey[i]);
            _rgb[3 * i + 2] = (byte)(i % 512 / 2);
        }
        // A 512×512 16-bit signed CT frame: a smooth phantom in Hounsfield-like stored values.
        _ct = new DicomDataset();
        void U(uint tag, ushort v) => _ct.Set(new DicomElement(new DicomTag(tag), DicomVR.US, DicomValues.EncodeBinary<ushort>([v])));
        U(0x00280002, 1);
        _ct.AddString(new DicomTag(0x00280004), DicomVR.CS, "MONOCHROME2");
        U(0x00280010, 512);
        U(0x00280011, 512);
        U(0x00280100, 16);
        U(0x00280101, 12);
        U(0x00280102, 11);
        U(0x00280103, 1);
        _ct.AddString(new DicomTag(0x00281050), DicomVR.DS, "40");
        _ct.AddString(new DicomTag(0x00281051), DicomVR.DS, "400");
        _ct.AddString(new DicomTag(0x00281052), DicomVR.DS, "-1024");
        _ct.AddString(new DicomTag(0x00281053), DicomVR.DS, "1");
        var px = new byte[512 * 512 * 2];
        for (var y = 0; y < 512; y++)
        {
            for (var x = 0; x < 512; x++)
            {
                var r = Math.Sqrt((x - 256.0) * (x - 256) + (y - 256.0) * (y - 256));
                var v = (short)(r < 200 ? 1024 + 40 + 30 * Math.Sin(x / 9.0) * Math.Cos(y / 13.0) : 24);
                BitConverter.TryWriteBytes(px.AsSpan(2 * (y * 512 + x)), v);
            }
        }
        _ct.Set(new DicomElement(DicomTag.PixelData, DicomVR.OW, px));
    }

    private long Encode(byte[] pixels, int components, JpegEncoderOptions options)
    {
        _out.SetLength(0);
        JpegEncoder.Encode(_out, pixels, 512, 512, components, options);
        return _out.Length;
    }

    [Benchmark(Description = "JPEG encode 512x512 greyscale q90")]
    public long EncodeGrey() => Encode(_grey, 1, Q90);

    [Benchmark(Description = "JPEG encode 512x512 RGB 4:2:0 q90")]
    public long EncodeRgb420() => Encode(_rgb, 3, Q90);

    [Benchmark(Description = "Render 512x512 16-bit CT (window 40/400) to 8-bit")]
    public int RenderCt() => DicomRenderer.Render(_ct).Pixels.Length;

    [Benchmark(Description = "Render 512x512 16-bit CT + JPEG q90 (WADO-RS /rendered)")]
    public long RenderCtJpeg()
    {
        _out.SetLength(0);
        DicomRenderer.RenderJpeg(_ct, _out, null, Q90);
        return _out.Length;
    }

    [Benchmark(Description = "Render 512x512 16-bit CT, 128x128 thumbnail + JPEG q90")]
    public long ThumbnailCtJpeg()
    {
        _out.SetLength(0);
        DicomRenderer.RenderJpeg(_ct, _out, new RenderOptions { MaxWidth = 128, MaxHeight = 128 }, Q90);
        return _out.Length;
    }
}
