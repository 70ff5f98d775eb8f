namespace EventSourced.Dicom.Imaging;

/// <summary>Image Pixel, Modality LUT and VOI LUT module tags (PS3.6) used here; not in <see cref="DicomTag"/>'s short list.</summary>
public static class ImagingTags
{
    public static readonly DicomTag SamplesPerPixel = new(0x00280002);
    public static readonly DicomTag PhotometricInterpretation = new(0x00280004);
    public static readonly DicomTag PlanarConfiguration = new(0x00280006);
    public static readonly DicomTag NumberOfFrames = new(0x00280008);
    public static readonly DicomTag Rows = DicomTag.Rows;
    public static readonly DicomTag Columns = DicomTag.Columns;
    public static readonly DicomTag BitsAllocated = new(0x00280100);
    public static readonly DicomTag BitsStored = new(0x00280101);
    public static readonly DicomTag HighBit = new(0x00280102);
    public static readonly DicomTag PixelRepresentation = DicomTag.PixelRepresentation;
    public static readonly DicomTag WindowCenter = new(0x00281050);
    public static readonly DicomTag WindowWidth = new(0x00281051);
    public static readonly DicomTag RescaleIntercept = new(0x00281052);
    public static readonly DicomTag RescaleSlope = new(0x00281053);
    public static readonly DicomTag VoiLutFunction = new(0x00281056);
    public static readonly DicomTag ModalityLutSequence = new(0x00283000);
    public static readonly DicomTag VoiLutSequence = new(0x00283010);
}
