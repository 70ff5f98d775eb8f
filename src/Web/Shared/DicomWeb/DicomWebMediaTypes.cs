namespace EventSourced.Web.Shared.DicomWeb;

/// <summary>Media types of PS3.18 §8.7.</summary>
public static class DicomWebMediaTypes
{
    public const string DicomJson = "application/dicom+json";
    public const string Dicom = "application/dicom";
    public const string MultipartRelated = "multipart/related";

    /// <summary>
    /// Whether the client takes a DICOM JSON answer: no Accept header, or one naming
    /// application/dicom+json, application/json, application/* or */* with a quality above 0.
    /// </summary>
    public static bool AcceptsDicomJson(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        return accept.Count == 0 || accept.Any(a => a.Quality is not 0
            && (a.MediaType.Equals(DicomJson, StringComparison.OrdinalIgnoreCase)
                || a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || a.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase)
                || a.MatchesAllTypes));
    }

    /// <summary>The WADO-RS Retrieve URL of a study (PS3.18 §10.4).</summary>
    public static string StudyUrl(HttpRequest request, string study) =>
        $"{request.Scheme}://{request.Host}{request.PathBase}/dicomweb/studies/{study}";

    /// <summary>The WADO-RS Retrieve URL of an instance.</summary>
    public static string InstanceUrl(HttpRequest request, string study, string series, string instance) =>
        $"{StudyUrl(request, study)}/series/{series}/instances/{instance}";
}
