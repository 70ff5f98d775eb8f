using EventSourced.Dicom.Imaging;
using Xunit.Abstractions;
using static EventSourced.Dicom.Tests.Imaging.Synthetic;

namespace EventSourced.Dicom.Tests.Imaging;

/// <summary>
/// VOI LUT functions against pydicom's <c>apply_windowing</c> (PS3.3 C.11.2.1.2/C.11.2.1.3), the oracle for
/// LINEAR_EXACT, which DCMTK 3.6.7 does not implement (modality LUT applied first with apply_modality_lut). pydicom outputs the stored range (y_min..y_max after
/// rescale); we normalise it to 0..255 before truncation and allow ±1.
/// </summary>
public class VoiFunctionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("MR_small.dcm", "LINEAR_EXACT", 600.0, 1600.0)]
    [InlineData("MR_small.dcm", "LINEAR_EXACT", 1000.0, 1.5)]
    [InlineData("CT_small.dcm", "LINEAR_EXACT", 40.0, 400.0)]
    [InlineData("CT_small.dcm", "LINEAR", 40.0, 400.0)]
    [InlineData("CT_small.dcm", "SIGMOID", -300.0, 1500.0)]
    [InlineData("MR_small.dcm", "SIGMOID", 600.0, 1600.0)]
    public void Header_voi_functions_equal_pydicoms_apply_windowing(string file, string function, double center, double width)
    {
        var source = Load(file);
        var ds = source.Dataset;
        SetText(ds, 0x00281056, DicomVR.CS, function);
        SetDs(ds, 0x00281050, center);
        SetDs(ds, 0x00281051, width);
        if (ds.Find(new DicomTag(0x00281053)) is null)
        {
            SetDs(ds, 0x00281053, 1);
            SetDs(ds, 0x00281052, 0);
        }
        var path = Write(source, ds);
        try
        {
            const string script = """
                import sys, numpy as np, pydicom
                from pydicom.pixel_data_handlers.util import apply_windowing, apply_modality_lut
                ds = pydicom.dcmread(sys.argv[1])
                y = apply_windowing(apply_modality_lut(ds.pixel_array, ds).astype(np.float64), ds)
                bs = ds.BitsStored
                lo, hi = (0, 2**bs - 1) if ds.PixelRepresentation == 0 else (-2**(bs - 1), 2**(bs - 1) - 1)
                m, b = float(ds.RescaleSlope), float(ds.RescaleIntercept)
                lo, hi = lo * m + b, hi * m + b
                out = np.clip(np.floor((y - lo) / (hi - lo) * 255 + 1e-9), 0, 255).astype(np.uint8)
                sys.stdout.write(out.tobytes().hex())
                """;
            var theirs = Convert.FromHexString(Oracles.Python3(script, path).Trim());
            var ours = DicomRenderer.Render(DicomFile.Open(path).Dataset);
            var (max, differing) = ImagingOracles.Compare(ours.Pixels, theirs);
            output.WriteLine($"{file} {function} {center}/{width}: max |diff| {max}, {differing} of {theirs.Length} differ");
            Assert.True(max <= 1, $"max {max}, {differing} differ");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
