namespace EventSourced.Application.Nodes;

/// <summary>A DICOM node we know by its AE title (document e's "Nodes" page).</summary>
public sealed class DicomNode
{
    public string AeTitle { get; set; } = "";

    public string? Description { get; set; }
}

/// <summary>
/// Configuration section <c>Nodes</c>: the peers the archive knows. <c>Nodes:Dicom</c> lists DICOM nodes by
/// AE title (e.g. <c>Nodes__Dicom__0__AeTitle=SCANNER1</c>); document e's pathology storage takes uploads
/// only from a configured CALLING_AET.
/// </summary>
public sealed class NodeOptions
{
    public const string Section = "Nodes";

    public List<DicomNode> Dicom { get; set; } = [];

    /// <summary>AE titles compare exactly, leading and trailing spaces being insignificant (PS3.5 §6.2, AE).</summary>
    public DicomNode? FindDicom(string? aeTitle) =>
        string.IsNullOrWhiteSpace(aeTitle) ? null : Dicom.FirstOrDefault(n => n.AeTitle.Trim() == aeTitle.Trim());
}
