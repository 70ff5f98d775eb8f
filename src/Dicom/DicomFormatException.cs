namespace EventSourced.Dicom;

/// <summary>The one exception the codec throws for malformed input: where, which element, and what was wrong.</summary>
public sealed class DicomFormatException : Exception
{
    public DicomFormatException(string problem, long offset, DicomTag? tag, Exception? inner = null)
        : base(Describe(problem, offset, tag), inner)
    {
        Problem = problem;
        Offset = offset;
        Tag = tag;
    }

    /// <summary>Byte offset in the (inflated, for deflate transfer syntax) stream where the problem was found.</summary>
    public long Offset { get; }

    /// <summary>The element being read, when known.</summary>
    public DicomTag? Tag { get; }

    public string Problem { get; }

    private static string Describe(string problem, long offset, DicomTag? tag) =>
        tag is { } t ? $"{problem} (element {t}, offset {offset})" : $"{problem} (offset {offset})";
}
