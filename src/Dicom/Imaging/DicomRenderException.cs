namespace EventSourced.Dicom.Imaging;

/// <summary>Why an image could not be rendered.</summary>
public enum DicomRenderError
{
    /// <summary>No Pixel Data (7FE0,0010) in the data set, or no fragment in encapsulated pixel data.</summary>
    NoPixelData,

    /// <summary>Pixel Data was passed over (streaming read): give the frame's bytes to <see cref="DicomRenderer.RenderFrame(DicomDataset, ReadOnlySpan{byte}, RenderOptions?)"/>.</summary>
    PixelDataNotLoaded,

    /// <summary>A required Image Pixel attribute is missing or has an impossible value (zero rows, High Bit beyond Bits Allocated …).</summary>
    InvalidAttribute,

    /// <summary>Fewer pixel bytes than Rows × Columns × Samples per Pixel × Bits Allocated / 8 per frame.</summary>
    TruncatedPixelData,

    /// <summary>The requested frame is not in the instance.</summary>
    FrameOutOfRange,

    /// <summary>Photometric Interpretation we do not render (PALETTE COLOR, YBR_PARTIAL_*, YBR_ICT/RCT …).</summary>
    UnsupportedPhotometricInterpretation,

    /// <summary>Bits Allocated other than 8 or 16.</summary>
    UnsupportedBitDepth,

    /// <summary>Encapsulated (compressed) pixel data that we cannot decode, or not the transfer syntax asked for.</summary>
    UnsupportedTransferSyntax,

    /// <summary>Encapsulated pixel data whose fragments cannot be assigned to frames.</summary>
    InvalidEncapsulation,
}

/// <summary>
/// The one exception the imaging code throws for inputs it cannot render. <see cref="IsUnsupported"/>
/// tells "valid but not supported" (map to 406 Not Acceptable / 415) from "broken instance" (the rest).
/// </summary>
public sealed class DicomRenderException : Exception
{
    public DicomRenderException(DicomRenderError error, string message, Exception? inner = null)
        : base(message, inner) => Error = error;

    public DicomRenderError Error { get; }

    public bool IsUnsupported => Error is DicomRenderError.UnsupportedPhotometricInterpretation
        or DicomRenderError.UnsupportedBitDepth or DicomRenderError.UnsupportedTransferSyntax;
}
